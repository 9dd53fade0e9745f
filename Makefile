# Two commands on a fresh Debian machine: `make demo` (the main job on embedded defaults) and `make test`.
.PHONY: demo demo-stop test check lint typecheck bootstrap chaos bench test-production

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@scripts/demo.sh

demo-stop:
	@scripts/demo.sh stop

test: bootstrap
	npm test

check: bootstrap
	npm run typecheck
	npm run lint
	npm test

# The slower targets: fault injection (about 17 min at its defaults) and the benchmarks (about 30 min).
chaos: bootstrap
	npm run chaos

bench: bootstrap
	npm run bench

# The end-to-end rollout tests on the production topology (scripts/production.sh: the Temporal server on PostgreSQL,
# three workers). The first run builds the Temporal server with Go (about 5 min on 2 cores); see docs/production.md.
test-production:
	@FERRY_BOOTSTRAP_PRODUCTION=1 scripts/bootstrap.sh
	npm run test:production

typecheck lint:
	npm run $@
