up: ## build the image and start (or replace) the container
	./install.sh

rollback: ## run the image before the last make up again (again: forward)
	./install.sh --rollback

logs: ## follow the logs
	./install.sh --logs

down: ## remove the container and the image (the data volume stays)
	./install.sh --uninstall --yes
