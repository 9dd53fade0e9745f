import type { SshSettings } from '../../core/domain/host';
import type { StoreDescriptor } from '../../core/domain/store';
import { authOf } from '../ssh/auth';
import type { SshPool } from '../ssh/ssh-pool';
import { LocalStore } from './local-store';
import type { ReleaseStore } from './release-store';
import { RemoteStore } from './remote-store';
import { S3Store, type S3Settings } from './s3-store';

/** Turns a store descriptor from workflow input into a client; the credentials come from the process, never the descriptor. */
export type StoreFactory = (store: StoreDescriptor, ssh?: SshSettings) => ReleaseStore;

/** The factory the worker and the CLI use: remote stores share the SSH pool, S3 stores one client per bucket and endpoint. */
export function storeFactory(deps: { ssh: SshPool; s3: S3Settings }): StoreFactory {
  const s3Clients = new Map<string, S3Store>();
  return (store, ssh) => {
    switch (store.kind) {
      case 'local':
        return new LocalStore(store.dir);
      case 'remote':
        return new RemoteStore(deps.ssh, store.host, store.path, authOf(ssh));
      case 's3': {
        const endpoint = store.endpoint ?? deps.s3.endpoint;
        const id = `${store.bucket}/${store.prefix}|${endpoint ?? ''}`;
        let s = s3Clients.get(id);
        if (!s) s3Clients.set(id, (s = new S3Store(store.bucket, store.prefix, { ...deps.s3, endpoint })));
        return s;
      }
    }
  };
}

export type { ReleaseStore, NewRelease } from './release-store';
export { getRelease, newestUpgrade } from './release-store';
export { s3SettingsFromEnv, type S3Settings } from './s3-store';
