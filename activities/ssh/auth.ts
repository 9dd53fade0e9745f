import type { SshSettings } from '../../core/domain/host';
import type { SshAuth } from './ssh-pool';

/** A project's SSH overrides as the pool reads them. */
export const authOf = (s: SshSettings | undefined): Partial<SshAuth> | undefined =>
  s && {
    knownHostsFile: s.knownHostsFile,
    identityFiles: s.identityFile ? [s.identityFile] : undefined,
    // A project's own files are explicit: the SSH config's IdentityFile / UserKnownHostsFile no longer replace them.
    defaultIdentities: s.identityFile ? false : undefined,
    defaultKnownHosts: s.knownHostsFile ? false : undefined,
    sshConfigFile: s.configFile,
  };
