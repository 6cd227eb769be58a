"""The WeChat mini-program: sign-in, binding, subscription consent, and WeChat's message push."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Router

from api.accounts.schemas import TokenOut
from api.schemas import OkOut, errors
from api.throttles import signin_throttle
from api.wechat.schemas import (
    SubscriptionReportIn,
    SubscriptionsOut,
    WeChatBindIn,
    WeChatBindingOut,
    WeChatSignInIn,
)
from backend.wechat import selectors, services
from backend.wechat.services.security import callback_verify, image_verdict_receive

router = Router(tags=["wechat"])


@router.post("/auth/wechat", response={200: TokenOut, **errors(503)}, auth=None, throttle=[signin_throttle()])
def signin_wechat(request, payload: WeChatSignInIn):
    """Sign in with the code from ``wx.login``. A first sign-in needs ``phone_code`` from the
    ``getPhoneNumber`` button (409 ``wechat_phone_required`` without it: call ``wx.login`` again
    and retry with both). The session key never leaves the server."""
    return services.wechat_signin(code=payload.code, phone_code=payload.phone_code)


@router.get("/me/wechat", response={200: WeChatBindingOut, **errors(503)})
def binding(request):
    """Whether WeChat is bound to the signed-in account."""
    account = selectors.wechat_account(user=request.auth)
    return {
        "bound": account is not None,
        "bound_at": account.bound_at if account else None,
        "has_unionid": bool(account and account.unionid),
    }


@router.post("/me/wechat", response={200: WeChatBindingOut, **errors(503)})
def bind(request, payload: WeChatBindIn):
    """Bind WeChat (the code from ``wx.login``) to the signed-in account; an openid bound to
    another account is 409 ``wechat_bound_elsewhere``."""
    account = services.wechat_bind(user=request.auth, code=payload.code)
    return {"bound": True, "bound_at": account.bound_at, "has_unionid": bool(account.unionid)}


@router.delete("/me/wechat", response={200: OkOut, **errors(503)})
def unbind(request):
    """Unbind WeChat: no more sign-in or subscription messages through it."""
    services.wechat_unbind(user=request.auth)
    return {"ok": True}


@router.post("/me/wechat/subscriptions", response={200: SubscriptionsOut, **errors(503)})
def subscriptions_report(request, payload: SubscriptionReportIn):
    """Report the answers of ``wx.requestSubscribeMessage``: each ``accept`` of a one-time
    template allows one message; long-term templates follow the latest answer."""
    services.subscriptions_report(user=request.auth, results=dict(payload.results))
    return {"items": selectors.subscriptions_of(user=request.auth)}


@router.get("/me/wechat/subscriptions", response={200: SubscriptionsOut, **errors(503)})
def subscriptions(request):
    """Every subscription template and what the signed-in user holds for it."""
    return {"items": selectors.subscriptions_of(user=request.auth)}


@router.get("/wechat/callback", auth=None, include_in_schema=False)
def callback_check(request, signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""):
    """WeChat's check of the message-push URL: echo ``echostr`` when the signature holds."""
    callback_verify(signature=signature, timestamp=timestamp, nonce=nonce)
    return HttpResponse(echostr, content_type="text/plain")


@router.post("/wechat/callback", auth=None, include_in_schema=False)
def callback(request, signature: str = "", timestamp: str = "", nonce: str = ""):
    """WeChat's message push (signed with ``WECHAT_MSG_TOKEN``): image verdicts."""
    image_verdict_receive(signature=signature, timestamp=timestamp, nonce=nonce, body=request.body)
    return HttpResponse("success", content_type="text/plain")
