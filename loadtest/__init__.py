"""Load test: simulated viewers against gunicorn started as in the Procfile (127.0.0.1 only).

Run ``python -m loadtest --data-dir STORE`` (see ``loadtest/__main__.py``).
"""
