# Two commands on a fresh Debian machine: `make demo` (the main job on embedded defaults) and `make test`.
.PHONY: demo demo-stop test check lint typecheck bootstrap

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

typecheck lint:
	npm run $@
