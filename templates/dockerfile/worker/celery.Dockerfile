# Background jobs (docs/tasks.md): the worker service runs this image as
# `celery --app app.tasks worker`, taking tasks from the broker at
# BROKER_URL. Every deployment mounts the broker's password at
# BROKER_PASSWORD_FILE (app/tasks.py): a path, not a secret.
# hadolint ignore=DL3064
ENV BROKER_URL=redis://broker:6379/0 \
    BROKER_PASSWORD_FILE=/run/broker/password \
    WORKER_TIME_LIMIT=120 \
    WORKER_CONCURRENCY=""
