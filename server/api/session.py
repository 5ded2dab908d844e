"""The staff session as the browser's scripts see it: who is logged in, and the CSRF token."""

from __future__ import annotations

from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from server.api import bp
from server.api.openapi import STAFF_LANGUAGE, obj, register
from server.usererror import UserError


@bp.get("/session")
def session_info():
    if not current_user.is_authenticated:
        raise UserError("login_required", status=401)
    return {
        "user": {
            "id": current_user.id,
            "username": current_user.username,
            "role": current_user.role.value,
            "language": current_user.language,
        },
        "csrf_token": generate_csrf(),
    }


register(
    {
        "/session": {
            "get": {
                "operationId": "getSession",
                "tags": ["staff"],
                "security": [{"session": []}],
                "summary": "The logged-in staff user and a CSRF token for unsafe requests",
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/StaffSession"}
                            }
                        },
                    },
                    "401": {
                        "description": "Not logged in",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                },
            }
        }
    },
    {
        "StaffSession": obj(
            ["user", "csrf_token"],
            {
                "user": obj(
                    ["id", "username", "role", "language"],
                    {
                        "id": {"type": "integer"},
                        "username": {"type": "string"},
                        "role": {"type": "string", "enum": ["curator", "organiser", "admin"]},
                        "language": STAFF_LANGUAGE,
                    },
                ),
                "csrf_token": {"type": "string"},
            },
        )
    },
)
