"""The pathways' background job: award a newly published pathway's badge to those who completed it already.

Run through :func:`badgehub.jobs.enqueue` (``pathways.award_completed``, registered in
:data:`badgehub.jobs.tasks.TASKS`) after a pathway is published: there may be many holders to check, and the
page that publishes should not wait for them. Safe to run twice: completions are unique per pathway and holder.
"""

from __future__ import annotations

from flask import current_app

from badgehub.db import run_with_retry, writing
from badgehub.extensions import db
from badgehub.mails.awards import queue_notification
from badgehub.pathways import award
from badgehub.pathways.models import Pathway


def award_completed(pathway_id: int) -> int:
    """Complete the pathway for every holder who has completed it (see
    :func:`badgehub.pathways.award.award_completed`), queue their e-mails and commit; returns how many."""
    config = current_app.config

    def work() -> int:
        pathway = db.session.get(Pathway, pathway_id)
        if pathway is None:
            return 0
        made = award.award_completed(pathway, config=config,
                                     notify=lambda credential: queue_notification(credential, config))
        db.session.commit()
        return len(made)

    with writing():
        return run_with_retry(work)
