up: ## build the image and start (or replace) the container
	./install.sh

logs: ## follow the logs
	./install.sh --logs

down: ## remove the container and the image (the data volume stays)
	./install.sh --uninstall --yes
