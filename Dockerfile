# The Ferry worker: one process that polls Temporal's `ferry` task queue and runs the build and deploy activities,
# which work over SSH (ssh2 for commands and file transfer, git with OpenSSH for fetching the sources).
#
# Build:  docker build -t ferry-worker .
# Run:    docker run --rm \
#           -e TEMPORAL_ADDRESS=temporal:7233 \
#           -v "$HOME/.ssh:/home/ferry/.ssh:ro" \
#           -v ferry-releases:/releases \
#           ferry-worker
#
# SSH material is never baked into the image. It is mounted read-only at /home/ferry/.ssh:
#   /home/ferry/.ssh/known_hosts   the host keys of the build and target hosts (Ferry refuses hosts it doesn't know)
#   /home/ferry/.ssh/id_ed25519    (or id_ecdsa, id_rsa) the key Ferry logs in with
# The files must be readable by uid 10001, the user the worker runs as (a bind mount keeps the host's owners and modes).
# FERRY_SSH_KNOWN_HOSTS and FERRY_SSH_IDENTITY_FILE point elsewhere; SSH_AUTH_SOCK uses a forwarded agent instead of a key.
# Other settings: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, FERRY_LOG_LEVEL, FERRY_LOG_FILE.
#
# /releases is a directory for the release store: set RELEASE_STORE=/releases in the project's .deliver/config.

FROM node:20.20.2-bookworm-slim

# openssh-client: `ssh` for git's GIT_SSH_COMMAND; git: fetching the sources to build; ca-certificates: https remotes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client git ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# The worker's own user, not root (uid 10001, named by number below so that runAsNonRoot checks can read it);
# its home holds the mounted .ssh.
RUN groupadd --gid 10001 ferry \
 && useradd --uid 10001 --gid ferry --home-dir /home/ferry --create-home --shell /usr/sbin/nologin ferry \
 && install -d -o ferry -g ferry -m 0700 /home/ferry/.ssh \
 && install -d -o ferry -g ferry -m 0755 /releases

ENV NODE_ENV=production \
    HOME=/home/ferry

WORKDIR /app

# Dependencies first, so that a change of source alone reuses this layer. tsx, which runs the TypeScript, is a
# runtime dependency: there is no build step. (The optional native helpers of ssh2 may fail to compile here, having no
# compiler: npm skips them and ssh2 uses its pure-JavaScript code.)
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 && npm cache clean --force

# The source, run as it is by tsx (tsconfig.json too, so that tsx compiles as it does on a developer's machine).
COPY tsconfig.json ./
COPY core ./core
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY bin ./bin

USER 10001:10001

ENTRYPOINT ["bin/ferry", "worker"]
