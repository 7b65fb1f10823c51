RUN python3 -m compileall -q app wsgi.py
