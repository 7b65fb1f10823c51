# The images compose builds: the names without a tag (postgres:17 has one).
for image in $(docker compose config --images | grep -vE ':[^/]*$' | sort -u); do
    scan "$image"
done
