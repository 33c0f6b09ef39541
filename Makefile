# Lianshen: `make run` for the demo, `make test` for the whole suite (both set up a fresh machine).
.PHONY: setup run test

setup:
	bash scripts/setup.sh

run: setup
	@.venv/bin/lianshen demo

test: setup
	bash scripts/test.sh
