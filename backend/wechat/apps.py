from django.apps import AppConfig


class WeChatConfig(AppConfig):
    name = "backend.wechat"
    label = "wechat"
    verbose_name = "WeChat mini-program"

    def ready(self) -> None:
        from backend.wechat import channel, notifications, personal_data  # noqa: F401 - channel, kinds, data rights
