"""Imports every model module so that the metadata (migrations, tests) sees all tables."""

from __future__ import annotations

from badgehub.accounts import models as accounts_models
from badgehub.achievements import models as achievements_models
from badgehub.audit import models as audit_models
from badgehub.catalogue import models as catalogue_models
from badgehub.claims import models as claims_models
from badgehub.competencies import models as competencies_models
from badgehub.endorsements import models as endorsements_models
from badgehub.issuing import models as issuing_models
from badgehub.keys import models as keys_models
from badgehub.oauth import models as oauth_models
from badgehub.oid4vci import models as oid4vci_models
from badgehub.organisations import models as organisations_models
from badgehub.outbox import models as outbox_models
from badgehub.pathways import models as pathways_models
from badgehub.recognition import models as recognition_models
from badgehub.stats import models as stats_models
from badgehub.territory import models as territory_models
from badgehub.tokens import models as tokens_models
from badgehub.wallet import models as wallet_models

__all__ = ["accounts_models", "achievements_models", "audit_models", "competencies_models", "issuing_models",
           "keys_models", "organisations_models", "territory_models"]
__all__ += ["catalogue_models", "claims_models"]
__all__ += ["tokens_models"]
__all__ += ["stats_models"]
__all__ += ["wallet_models"]
__all__ += ["outbox_models"]
__all__ += ["oid4vci_models"]
__all__ += ["oauth_models"]
__all__ += ["endorsements_models"]
__all__ += ["recognition_models"]
__all__ += ["pathways_models"]
