"""Webhook endpoints: the caller's webhook (set, read, remove) and its deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.auth import Owner
from api.schemas import ERROR_RESPONSES, WebhookBody, WebhookDeliveries, WebhookDeliveryBody, WebhookIn
from api.state import runtime_of
from services import webhooks
from services.webhooks import WEBHOOK_EVENT_TYPES, ConfiguredWebhook, DeliveryState

router = APIRouter(tags=["webhooks"], responses=ERROR_RESPONSES)


def _body(webhook: ConfiguredWebhook) -> WebhookBody:
    return WebhookBody(
        url=webhook.url,
        created_at=webhook.created_at,
        events=sorted(WEBHOOK_EVENT_TYPES),
        secret=webhook.secret,
    )


@router.put("/v1/webhook")
def set_webhook(body: WebhookIn, owner: Owner, request: Request) -> WebhookBody:
    """Set the caller's webhook with a fresh signing secret, shown in this answer only."""
    return _body(webhooks.configure_webhook(runtime_of(request), owner, body.url))


@router.get("/v1/webhook")
def get_webhook(owner: Owner, request: Request) -> WebhookBody:
    """The caller's webhook, without its secret."""
    return _body(webhooks.owner_webhook(runtime_of(request), owner))


@router.delete("/v1/webhook", status_code=204)
def delete_webhook(owner: Owner, request: Request) -> Response:
    """Remove the caller's webhook; deliveries already queued still go out."""
    webhooks.remove_webhook(runtime_of(request), owner)
    return Response(status_code=204)


@router.get("/v1/webhooks/deliveries")
def list_deliveries(
    owner: Owner,
    request: Request,
    state: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WebhookDeliveries:
    """The caller's webhook deliveries, newest first; `state=dead` lists the dead letters."""
    records = webhooks.list_deliveries(
        runtime_of(request), owner, None if state is None else DeliveryState(state), limit
    )
    return WebhookDeliveries(
        deliveries=[
            WebhookDeliveryBody(
                event_id=record.event_id,
                event_type=record.event_type,
                batch_id=record.batch_id,
                url=record.url,
                state=record.state.value,
                attempts=record.attempts,
                next_attempt_at=record.next_attempt_at if record.state is DeliveryState.PENDING else None,
                created_at=record.created_at,
                delivered_at=record.delivered_at,
                last_status=record.last_status,
                last_error=record.last_error,
            )
            for record in records
        ]
    )


@router.post("/v1/webhooks/deliveries/{event_id}/retry", status_code=202)
def retry_delivery(event_id: str, owner: Owner, request: Request) -> Response:
    """Give one of the caller's dead deliveries a fresh set of attempts now."""
    webhooks.retry_delivery(runtime_of(request), event_id, owner)
    return Response(status_code=202)
