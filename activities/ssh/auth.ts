import type { SshSettings } from '../../core/domain/host';
import type { SshAuth } from './ssh-pool';

/** A project's SSH overrides as the pool reads them. */
export const authOf = (s: SshSettings | undefined): Partial<SshAuth> | undefined =>
  s && {
    knownHostsFile: s.knownHostsFile,
    identityFiles: s.identityFile ? [s.identityFile] : undefined,
  };
