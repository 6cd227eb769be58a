"""Errors of the rivers domain (stable codes; messages in Chinese and English)."""

from __future__ import annotations

from backend.core.errors import Conflict, DomainError, InvalidTransition, PermissionDenied
from backend.core.i18n import T


class NotASteward(PermissionDenied):
    code = "not_a_steward"
    message = T("您不是该河段的巡河人员。", "You are not a steward of this river segment.")


class SegmentOutsideArea(PermissionDenied):
    code = "segment_outside_area"
    message = T(
        "该河段不在本组织的服务区域内。",
        "This river segment lies outside the organisation's area.",
    )


class PatrolInProgress(Conflict):
    code = "patrol_in_progress"
    message = T("您有一次巡河尚未结束。", "You already have a patrol in progress.")


class PatrolNotRecording(InvalidTransition):
    code = "patrol_not_recording"
    message = T("该巡河已结束，不能再上传轨迹点。", "This patrol has finished; no more points can be added.")


class PatrolTooManyPoints(DomainError):
    code = "patrol_too_many_points"
    status = 413
    message = T("轨迹点数量超出上限。", "The track has too many points.")


class ClientIdReused(Conflict):
    code = "client_id_reused"
    message = T(
        "该离线记录编号已用于另一次巡河。",
        "This client id was already used for a different patrol.",
    )


class NotAVolunteer(DomainError):
    code = "not_a_volunteer"
    status = 422
    message = T("该用户尚未注册为志愿者。", "This user is not a registered volunteer.")


class SegmentHasNoGeometry(DomainError):
    code = "river_has_no_segments"
    status = 422
    message = T("该河流尚未划分河段。", "This river has no segments yet.")


class NotAHandler(DomainError):
    code = "not_a_handler"
    status = 422
    message = T("被指派人不是该辖区的处置人员。", "The assignee is not a handler of this division.")


class ResolutionNeedsPhoto(DomainError):
    code = "resolution_photo_required"
    status = 422
    message = T("办结处置须上传现场照片。", "A resolution needs at least one photo.")


class PhotoRejected(DomainError):
    code = "photo_rejected"
    status = 422
    message = T("照片无法处理。", "The photo could not be processed.")


class TooManyPhotos(DomainError):
    code = "too_many_photos"
    status = 422
    message = T("照片数量超出上限。", "Too many photos.")


class PhotoTooLarge(PhotoRejected):
    code = "file_too_large"
    status = 413
    message = T("照片文件过大。", "The photo is too large.")


class PhotoUnsupported(PhotoRejected):
    code = "unsupported_media_type"
    status = 415
    message = T("不支持该文件类型。", "This file type is not accepted.")
