"""S3 at the edges: a client from settings, manifests read from ``s3://``, verified conditional puts.

Credentials come from the standard AWS chain (environment, shared config, SSO, instance
role); ``endpoint_url`` points at S3-compatible stores. Retries on throttling and 5xx are
botocore's (``retry_mode`` standard or adaptive, ``max_attempts``).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from eidflow.errors import ManifestError

if TYPE_CHECKING:  # botocore is imported where S3 is used: a local run does not load it
    from botocore.exceptions import ClientError


class S3Settings(BaseModel):
    """An S3 bucket (or S3-compatible store). Credentials: the standard AWS chain, never here."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = ""
    prefix: str = "eidflow"  # objects go under <prefix>/<run_id>/
    region: str = ""  # "" = the AWS chain's default region
    endpoint_url: str = ""  # S3-compatible stores, moto in tests
    sse: Literal["AES256", "aws:kms", "none"] = "AES256"
    kms_key_id: str = ""  # with sse = "aws:kms"; "" = the bucket's default KMS key
    max_attempts: int = Field(default=5, ge=1)
    retry_mode: Literal["standard", "adaptive"] = "standard"
    # checksum: compare the SHA-256 S3 returns with ours (AWS S3 checks the body against it);
    # read_back: also download each object and hash it, for stores that do not check
    # (moto does not); auto: read_back when endpoint_url is set, else checksum.
    verify: Literal["auto", "checksum", "read_back"] = "auto"
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)


NOT_FOUND = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}
DENIED = {"403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
PRECONDITION_FAILED = {"412", "PreconditionFailed"}


class ChecksumMismatch(Exception):
    """What S3 holds is not what we sent."""


class ObjectExists(ChecksumMismatch):
    """The key already holds an object with other content (the conditional put refused)."""


def make_client(settings: S3Settings) -> Any:
    """A boto3 S3 client for these settings (built where it is used, never passed to tasks)."""
    # Imported here: boto3 costs a tenth of a second that a run without S3 need not pay.
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        s3={"addressing_style": "path"} if settings.endpoint_url else None,
    )
    return boto3.session.Session().client(
        "s3",
        region_name=settings.region or None,
        endpoint_url=settings.endpoint_url or None,
        config=config,
    )


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key); raises ValueError when either is missing."""
    parts = urlsplit(url)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key:
        raise ValueError(f"{url!r} is not an s3://bucket/key URL")
    return parts.netloc, key


def read_object(url: str, settings: Any = None, *, client: Any = None) -> bytes:
    """The bytes of a manifest on S3; a missing or unreadable object is a ManifestError.

    ``settings``: the S3 settings, or the whole ``app.settings.Settings`` (its
    ``delivery.s3`` section gives region, endpoint and retries; the bucket is the URL's).
    """
    try:
        bucket, key = parse_url(url)
    except ValueError as error:
        raise ManifestError(
            url, f"{error}.", todo="Write it as s3://bucket/path/file.csv."
        ) from None
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = client or make_client(_s3_settings(settings))
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        raise manifest_error(url, error) from None
    except BotoCoreError as error:
        raise ManifestError(
            url,
            f"could not read from S3 ({error}).",
            todo="Check network access, delivery.s3.endpoint_url/region and AWS credentials.",
            transient=True,
        ) from None


def _s3_settings(settings: Any) -> S3Settings:
    if isinstance(settings, S3Settings):
        return settings
    delivery = getattr(settings, "delivery", None)
    return delivery.s3 if delivery is not None else S3Settings()


def manifest_error(url: str, error: ClientError) -> ManifestError:
    code = error_code(error)
    if code == "NoSuchBucket":
        return ManifestError(url, "no such bucket.", todo="Check the bucket name and region.")
    if code in NOT_FOUND:
        return ManifestError(url, "file not found.", todo="Check the key (path) and the bucket.")
    if code in DENIED:
        return ManifestError(
            url,
            "access denied.",
            todo=(
                "Check the key, the AWS credentials in use and that they allow s3:GetObject on "
                "it (without s3:ListBucket, S3 answers a missing key with access denied too)."
            ),
        )
    return ManifestError(
        url, f"could not be read from S3 ({code}: {error}).", todo="Retry later.", transient=True
    )


def error_code(error: ClientError) -> str:
    response: dict[str, Any] = error.response or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return code or status


def sha256_b64(hex_digest: str) -> str:
    """The base64 form S3 uses for ``ChecksumSHA256`` of a hex digest."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


@dataclass(frozen=True)
class PutResult:
    key: str
    already_there: bool  # an earlier attempt delivered the same bytes


def put_verified(
    client: Any,
    settings: S3Settings,
    key: str,
    path: Path,
    sha256_hex: str,
    *,
    content_type: str = "application/octet-stream",
    metadata: dict[str, str] | None = None,
) -> PutResult:
    """Put ``path`` at ``key`` unless it exists; check S3 holds exactly these bytes.

    An existing object with the same SHA-256 is a delivery already done; with another
    checksum, :class:`ChecksumMismatch`. ClientError/BotoCoreError propagate.
    """
    from botocore.exceptions import ClientError

    checksum = sha256_b64(sha256_hex)
    with path.open("rb") as body:
        try:
            response = client.put_object(
                Bucket=settings.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
                IfNoneMatch="*",
                Metadata=metadata or {},
                **sse_arguments(settings),
            )
        except ClientError as error:
            if error_code(error) not in PRECONDITION_FAILED:
                raise
            _check_existing(client, settings, key, checksum)
            return PutResult(key=key, already_there=True)
    returned = response.get("ChecksumSHA256", "")
    if returned != checksum:
        raise ChecksumMismatch(
            f"S3 reports SHA-256 {returned or '(none)'} for s3://{settings.bucket}/{key}, "
            f"eidflow sent {checksum}"
        )
    _check_encryption(response, settings, key)
    if settings.verify == "read_back" or (settings.verify == "auto" and settings.endpoint_url):
        _check_read_back(client, settings, key, sha256_hex)
    return PutResult(key=key, already_there=False)


def sse_arguments(settings: S3Settings) -> dict[str, str]:
    if settings.sse == "none":
        return {}
    arguments: dict[str, str] = {"ServerSideEncryption": settings.sse}
    if settings.sse == "aws:kms" and settings.kms_key_id:
        arguments["SSEKMSKeyId"] = settings.kms_key_id
    return arguments


def _check_encryption(response: dict[str, Any], settings: S3Settings, key: str) -> None:
    if settings.sse != "none" and response.get("ServerSideEncryption") != settings.sse:
        raise ChecksumMismatch(
            f"s3://{settings.bucket}/{key} is stored with encryption "
            f"{response.get('ServerSideEncryption') or '(none)'}, not {settings.sse}"
        )


def _check_existing(client: Any, settings: S3Settings, key: str, checksum: str) -> None:
    head = client.head_object(Bucket=settings.bucket, Key=key, ChecksumMode="ENABLED")
    held = head.get("ChecksumSHA256", "")
    if held != checksum:
        raise ObjectExists(
            f"s3://{settings.bucket}/{key} already exists with other content "
            f"(SHA-256 {held or 'unknown'}); eidflow never overwrites a delivered object"
        )


def get_bytes(client: Any, settings: S3Settings, key: str) -> bytes:
    return bytes(client.get_object(Bucket=settings.bucket, Key=key)["Body"].read())


def _check_read_back(client: Any, settings: S3Settings, key: str, sha256_hex: str) -> None:
    from botocore.exceptions import FlexibleChecksumError

    digest = hashlib.sha256()
    try:
        body: IO[bytes] = client.get_object(Bucket=settings.bucket, Key=key)["Body"]
        for block in iter(lambda: body.read(1 << 20), b""):
            digest.update(block)
    except FlexibleChecksumError as error:
        # botocore hashes the body against the checksum S3 stored with it (ChecksumMode).
        raise ChecksumMismatch(
            f"s3://{settings.bucket}/{key} read back does not match its SHA-256 ({error})"
        ) from None
    if digest.hexdigest() != sha256_hex:
        raise ChecksumMismatch(
            f"s3://{settings.bucket}/{key} read back with SHA-256 {digest.hexdigest()}, "
            f"eidflow sent {sha256_hex}"
        )
