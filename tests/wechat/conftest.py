"""WeChat tests run the real client code against the local stand-in of WeChat's API."""

from tests.support.wechat_fixtures import (  # noqa: F401 - fixtures and names the tests use
    DECISION_TEMPLATE,
    MSG_TOKEN,
    PASS_TEMPLATE,
    STANDIN_FIELDS,
    TEMPLATES,
    sign_in,
    wechat,
    wechat_standin,
)
