"""Every /api/v1 route: importing this module registers them all on the API blueprint."""

from server.api import bp, curator, organiser, player, session, tiles

__all__ = ["bp", "curator", "organiser", "player", "session", "tiles"]
