"""Docker HEALTHCHECK: exit 0 when /health answers 200 through nginx and uWSGI."""

import os
import sys
import urllib.request

# nginx's HTTP port (the image's ENV).
URL = f"http://127.0.0.1:{os.environ['NGINX_PORT']}/health"


def main() -> int:
    # An empty ProxyHandler: a proxy set in the environment must not see this.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(URL, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
