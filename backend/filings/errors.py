from __future__ import annotations

from backend.core.errors import Conflict, DomainError, InvalidTransition, ValidationFailed
from backend.core.i18n import T

__all__ = [
    "AnnualReportExists",
    "CorruptUpload",
    "FileTooLarge",
    "FilingChanged",
    "FilingInProgress",
    "FilingIncomplete",
    "ImageTooLarge",
    "InvalidDivision",
    "InvalidTransition",
    "ListingAlreadyRemoved",
    "NameNotAcceptable",
    "OrgNotActive",
    "RenewalNotOpen",
    "UnsupportedMediaType",
]


class FilingIncomplete(ValidationFailed):
    code = "filing_incomplete"
    message = T(
        "备案材料不完整或有误，请按提示修改后再提交。",
        "The filing is incomplete or has errors; fix them and submit again.",
    )


class FilingChanged(Conflict):
    code = "filing_changed"
    message = T(
        "该申请已被他人处理或修改，请刷新后再试。",
        "Someone else changed this filing; reload it and try again.",
    )


class NameNotAcceptable(Conflict):
    code = "name_not_acceptable"
    message = T("该名称不符合名称规定或已被占用。", "This name breaks the naming rules or is already taken.")


class InvalidDivision(ValidationFailed):
    code = "invalid_division"
    message = T("请选择有效的社区。", "Choose a valid community.")


class FilingInProgress(Conflict):
    code = "filing_in_progress"
    message = T("该组织已有正在办理的申请。", "This group already has a filing in progress.")


class RenewalNotOpen(Conflict):
    code = "renewal_not_open"
    message = T("尚未到延续备案的办理时间。", "Renewal is not open yet for this group.")


class OrgNotActive(Conflict):
    code = "org_not_active"
    message = T("该组织当前不处于备案有效状态。", "This group's filing is not in force.")


class AnnualReportExists(Conflict):
    code = "annual_report_exists"
    message = T("该年度的年度报告已提交。", "The annual report for this year was already filed.")


class ListingAlreadyRemoved(Conflict):
    code = "listing_already_removed"
    message = T("该名单记录已移出。", "This listing was already removed.")


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    message = T(
        "仅支持 JPEG、PNG、WebP、GIF 图片或 PDF 文件。",
        "Only JPEG, PNG, WebP or GIF images and PDF files are accepted.",
    )


class FileTooLarge(DomainError):
    code = "file_too_large"
    status = 413
    message = T("文件过大。", "The file is too large.")


class ImageTooLarge(DomainError):
    code = "image_too_large"
    status = 413
    message = T("图片像素过多。", "The image has too many pixels.")


class CorruptUpload(DomainError):
    code = "corrupt_file"
    status = 422
    message = T("文件已损坏，无法读取。", "The file is damaged and cannot be read.")


MEDIA_ERRORS: dict[str, type[DomainError]] = {
    "unsupported_media_type": UnsupportedMediaType,
    "file_too_large": FileTooLarge,
    "image_too_large": ImageTooLarge,
    "corrupt_image": CorruptUpload,
    "corrupt_file": CorruptUpload,
}
