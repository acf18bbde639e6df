"""API tokens: how an organisation's own systems call the JSON API (``/api/v1``)."""
