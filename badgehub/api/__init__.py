"""JSON API blueprints (``/api/v1/…``), registered through ``badgehub.web.BLUEPRINT_MODULES``."""
