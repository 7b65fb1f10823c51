# A stand-in for the official python:X.Y-slim image made from Debian's binary
# packages of that Python, for a release whose source cannot be fetched here
# (3.14: Debian's python3.14 source files answer 404, its binaries download).
# What a baked project meets is laid out as in docker-library/python's
# X.Y/slim-trixie/Dockerfile: python3, python, pip, pip3 and python3-config in
# /usr/local/bin (first on PATH), pip installed for the whole image, the
# headers and libpythonX.Y.so where the interpreter's sysconfig names them, the
# same ENV (PATH, PYTHON_VERSION), CMD python3.
# What differs, and why (tests/infra/make-python-image.sh passes the arguments):
# - the interpreter is Debian sid's build (PGO and LTO as Debian builds it),
#   installed by apt in /usr, with what it needs from sid too: 3.14.10-1 needs
#   glibc 2.42 or later, so libc6 and libc-bin are sid's (2.43), as are
#   libtinfo6, ncurses and zlib1g, and the libraries newly installed with it
#   (libexpat1, libffi8, readline; the build log lists every one);
#   /usr/local/bin holds links to it, and pip (the wheel Debian's
#   ensurepip would install) lives in /usr/local/lib/pythonX.Y/dist-packages;
# - Debian's EXTERNALLY-MANAGED marker is removed: `pip install` outside a
#   virtualenv works, as in the official image;
# - the -dev packages bring the headers with their own dependencies
#   (libexpat1-dev, zlib1g-dev, libc6-dev): a C extension compiled here may
#   link libraries the official image does not have (uWSGI links libexpat);
# - sid's libc6-dev (2.43, which libpython's -dev packages pull in) no longer
#   depends on libcrypt-dev as trixie's does, so a build that installs
#   libc6-dev would miss crypt.h and libcrypt.so (uWSGI 2.0.31 links -lcrypt:
#   "cannot find -lcrypt"); libcrypt-dev is installed here for it;
# - no PYTHON_SHA256 (there is no tarball) and no idle3 (Debian packages IDLE
#   apart, with Tk);
# - sid's package lists are used for the install only: the image's apt knows
#   trixie alone, as the official image's does;
# - pip, pip3 and pipX.Y are pip's own scripts (upstream links pip to pip3).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

# ensure local python is preferred over distribution python
ENV PATH=/usr/local/bin:$PATH

# runtime dependencies, as upstream
RUN set -eux; \
	apt-get update; \
	apt-get install -y --no-install-recommends \
		ca-certificates \
		netbase \
		tzdata \
	; \
	apt-get dist-clean

ARG PYTHON_VERSION
ENV PYTHON_VERSION=${PYTHON_VERSION}

# Build-time only: the Debian suite and version of the packages (3.14.10-1).
ARG DEBIAN_SUITE=sid
ARG DEBIAN_VERSION

RUN set -eux; \
	minor="${PYTHON_VERSION%.*}"; \
	echo "deb http://deb.debian.org/debian $DEBIAN_SUITE main" > /etc/apt/sources.list.d/stand-in.list; \
# sid's Release files are valid for a week only, and a mirror frozen longer
# serves them past their Valid-Until: not checked there (the signature still is)
	apt-get -o Acquire::Check-Valid-Until=false update; \
	dpkg-query -W -f '${Package}=${Version}\n' | sort > /tmp/before; \
# -t: what these packages need comes from that suite too (3.14.10-1 needs glibc
# 2.42 or later); the packages it does not touch stay trixie's
	apt-get install -y --no-install-recommends -t "$DEBIAN_SUITE" \
		"python$minor=$DEBIAN_VERSION" \
		"python$minor-minimal=$DEBIAN_VERSION" \
		"libpython$minor=$DEBIAN_VERSION" \
		"libpython$minor-stdlib=$DEBIAN_VERSION" \
		"libpython$minor-dev=$DEBIAN_VERSION" \
		"python$minor-dev=$DEBIAN_VERSION" \
		"python$minor-venv=$DEBIAN_VERSION" \
		libcrypt-dev \
	; \
	echo "installed or changed:"; \
	dpkg-query -W -f '${Package}=${Version}\n' | sort | comm -13 /tmp/before -; \
	rm /tmp/before; \
	rm /etc/apt/sources.list.d/stand-in.list; \
	apt-get dist-clean; \
	rm -f "/usr/lib/python$minor/EXTERNALLY-MANAGED"; \
	for name in "python$minor" "python$minor-config" "pydoc$minor"; do \
		ln -svT "/usr/bin/$name" "/usr/local/bin/$name"; \
	done; \
	ln -svT "python$minor" /usr/local/bin/python3; \
	ln -svT "python$minor-config" /usr/local/bin/python3-config; \
	ln -svT "pydoc$minor" /usr/local/bin/pydoc3; \
	\
	export PYTHONDONTWRITEBYTECODE=1; \
# Debian's ensurepip refuses the system Python: pip installs itself from the
# wheel ensurepip would take (python3-pip-whl), writing pip, pip3 and pipX.Y
	wheel="$(echo /usr/share/python-wheels/pip-*.whl)"; \
	python3 "$wheel/pip" install --no-index --no-cache-dir --root-user-action=ignore \
		--disable-pip-version-check "$wheel"; \
	[ "$(python3 -c 'import platform; print(platform.python_version())')" = "$PYTHON_VERSION" ]; \
	python3 --version; \
	pip3 --version

# make some useful symlinks that are expected to exist ("/usr/local/bin/python" and friends)
RUN set -eux; \
	for src in pydoc3 python3 python3-config; do \
		dst="$(echo "$src" | tr -d 3)"; \
		[ -s "/usr/local/bin/$src" ]; \
		[ ! -e "/usr/local/bin/$dst" ]; \
		ln -svT "$src" "/usr/local/bin/$dst"; \
	done

CMD ["python3"]
