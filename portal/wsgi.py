"""WSGI entry point: ``granian --interface wsgi portal.wsgi:application`` (see README
"Production")."""

import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# Each app server process reads the districts' street networks once; do it now, in the
# background, rather than in the first request that walks (STREETS_PRELOAD=false to skip).
if os.environ.get("STREETS_PRELOAD", "true").lower() != "false":
    from streets.network import preload

    threading.Thread(target=preload, name="streets-preload", daemon=True).start()
