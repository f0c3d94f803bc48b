"""Start the CineCRS web app: ``python app.py [--host H] [--port P] [--data-dir D] [--store-dir S] [--db DB]``.

Only wiring lives here (see :mod:`crs.webapp`): settings -> service -> UI -> launch.
Nothing happens at import time.
"""

from crs.webapp import main

if __name__ == "__main__":
    main()
