"""Install lifecycle: uninstalls and revoked tokens pause a team's deliveries and drop its
tokens; a reinstall (see bot/oauth.py) resumes them."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings

from ..data.pauses import UNINSTALLED, pause_team
from .services import Services

log = logging.getLogger(__name__)


def register_lifecycle(app: App, services: Services, oauth: OAuthSettings | None) -> None:
    store = oauth.installation_store if oauth is not None else None

    @app.event("app_uninstalled")
    def on_uninstalled(body: dict[str, Any]) -> None:
        team = body.get("team_id") or ""
        enterprise = body.get("enterprise_id")
        if store is not None:
            store.delete_all(enterprise_id=enterprise, team_id=team)
        with services.sessions() as session, session.begin():
            paused = pause_team(session, team, UNINSTALLED, services.clock())
        log.info("app uninstalled from %s: paused %s", team, ", ".join(paused) or "nothing")

    @app.event("tokens_revoked")
    def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        team = body.get("team_id") or ""
        enterprise = body.get("enterprise_id")
        tokens = event.get("tokens") or {}
        if store is not None:
            for user_id in tokens.get("oauth") or []:
                store.delete_installation(enterprise_id=enterprise, team_id=team, user_id=user_id)
            if tokens.get("bot"):
                store.delete_bot(enterprise_id=enterprise, team_id=team)
        if tokens.get("bot"):
            with services.sessions() as session, session.begin():
                paused = pause_team(session, team, UNINSTALLED, services.clock())
            log.info("bot token revoked in %s: paused %s", team, ", ".join(paused) or "nothing")
