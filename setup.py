"""The part of the build configuration pyproject.toml cannot say.

``templates/`` and ``migrations/`` stay at the top of the repository, where people look for them, yet an
installed BadgeHub must carry them: they are installed as ``badgehub/templates`` and ``badgehub/migrations``
(``badgehub.config.bundled`` finds either place). Everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["badgehub", "badgehub.*"]), "badgehub.templates", "badgehub.migrations"],
    package_dir={"badgehub.templates": "templates", "badgehub.migrations": "migrations"},
)
