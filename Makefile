# bunryu: `make run` (the site on its embedded default) and `make test` (the full suite on real services).
# The search node (OpenSearch from Maven Central jars, scripts/search-node.sh) needs a JDK 17 and Maven.
SEARCH_NODE_PACKAGES := openjdk-17-jdk-headless maven curl
TEST_DEBIAN_PACKAGES := postgresql redis-server chromium fonts-noto-cjk $(SEARCH_NODE_PACKAGES)

.PHONY: run test lint format bench search-node

run:
	scripts/bootstrap.sh
	scripts/run.sh

test:
	scripts/bootstrap.sh --dev $(TEST_DEBIAN_PACKAGES)
	scripts/with-services.sh .venv/bin/pytest $(PYTEST_ARGS)

# A development search node on 127.0.0.1:9200 (data in var/search-node) in the foreground; Ctrl-C stops it.
# Then e.g. SEARCH_URL=opensearch://127.0.0.1:9200 make run.
search-node:
	scripts/bootstrap.sh $(SEARCH_NODE_PACKAGES)
	scripts/search-node.sh $(SEARCH_NODE_PORT)

lint:
	scripts/bootstrap.sh --dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench:
	scripts/bootstrap.sh --dev postgresql redis-server chromium
	scripts/with-services.sh .venv/bin/python bench/versions.py $(BENCH_ARGS)
	scripts/with-services.sh .venv/bin/python bench/import_export.py $(IMPORT_EXPORT_ARGS)
	scripts/with-services.sh .venv/bin/python bench/import_job.py $(IMPORT_JOB_ARGS)
	scripts/with-services.sh .venv/bin/python bench/import_memory.py $(IMPORT_MEMORY_ARGS)
	scripts/with-services.sh .venv/bin/python bench/offer_import.py $(OFFER_IMPORT_ARGS)
	scripts/with-services.sh .venv/bin/python bench/pages.py $(PAGES_ARGS)
	scripts/with-services.sh .venv/bin/python bench/training.py $(TRAINING_ARGS)
	test -d var/bench-cleanlab/cleanlab || .venv/bin/pip install --quiet --no-deps --target var/bench-cleanlab cleanlab==2.9.0 termcolor==3.3.0
	.venv/bin/python bench/label_errors.py $(LABEL_ERRORS_ARGS)
	scripts/with-services.sh .venv/bin/python bench/api.py $(API_ARGS)
	scripts/with-services.sh .venv/bin/python bench/queue_load.py $(QUEUE_LOAD_ARGS)
	scripts/with-services.sh .venv/bin/python bench/browser.py $(BROWSER_ARGS)
	.venv/bin/python bench/startup.py $(STARTUP_ARGS)
	test -d var/bench-pyjedai/pyjedai || .venv/bin/pip install --quiet --no-deps --target var/bench-pyjedai -r bench/requirements-catalog.txt
	SEARCH_NODE=off scripts/with-services.sh .venv/bin/python bench/catalog.py $(CATALOG_ARGS)
	scripts/bootstrap.sh $(SEARCH_NODE_PACKAGES)
	SEARCH_NODE=off scripts/with-services.sh .venv/bin/python bench/indexing.py $(INDEXING_ARGS)
