"""The 1EdTech Open Badges 3.0 API (§6, the service provider role) at ``/ims/ob/v3p0``, behind OAuth 2.0."""
