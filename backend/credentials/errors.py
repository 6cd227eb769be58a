"""Domain errors of the credentials domain."""

from backend.core.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationFailed
from backend.core.i18n import T


class AssociationNameTaken(Conflict):
    code = "association_name_taken"
    message = T("已有同名的行业协会。", "An association with this name already exists.")


class PractitionerExists(Conflict):
    code = "practitioner_exists"
    message = T("该身份证号码已在本协会登记。", "This ID number is already registered with this association.")


class CertificateNumberTaken(Conflict):
    code = "certificate_number_taken"
    message = T("本协会已有该证书编号。", "This certificate number already exists in this association.")


class CredentialTransition(InvalidTransition):
    code = "invalid_transition"
    message = T(
        "证件当前状态下不能执行此操作。", "This action is not allowed in the credential's current state."
    )


class PractitionerBlacklisted(Conflict):
    code = "already_blacklisted"
    message = T("该从业人员已在黑名单中。", "This practitioner is already on the blacklist.")


class BlacklistEntryLifted(InvalidTransition):
    code = "blacklist_entry_lifted"
    message = T("该黑名单记录已解除。", "This blacklist entry was already lifted.")


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    message = T("请填写原因。", "A reason is required.")


class CredentialNotFound(NotFound):
    """Manual lookup: the same answer whether the number is unknown or the name does not match."""

    code = "not_found"
    message = T(
        "未找到与该证书编号和姓名相符的证件。", "No credential matches this certificate number and name."
    )


class ImportFailed(ValidationFailed):
    code = "import_failed"
    message = T("导入文件有误，未导入任何数据。", "The import file has errors; nothing was imported.")


class ImportFileUnreadable(DomainError):
    code = "import_file_unreadable"
    status = 422
    message = T(
        "无法读取导入文件，请上传 CSV 或 Excel（.xlsx）文件。",
        "Cannot read the file: upload CSV or Excel (.xlsx).",
    )


class PhotoRejected(DomainError):
    code = "photo_rejected"
    status = 422
    message = T("照片无法使用。", "The photo cannot be used.")
    # The image pipeline\'s own reasons (media.images), passed on as the code.
    codes = ("unsupported_media_type", "file_too_large", "image_too_large", "corrupt_image", "corrupt_file")
