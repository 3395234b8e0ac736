"""Certificates (diplomas) and the OTEC's signer settings.

A certificate keeps a snapshot of what it certifies (name, RUN, course, hours, dates, grade, OTEC, signer):
the PDF and the public verification page must say what was issued, even after a participant's name or the
course's title is edited later. A correction is a reissue: the old folio is revoked and a new one issued.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

STATUSES = ("valid", "revoked")


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        # At most one valid certificate per participant and course, even with two staff issuing at once.
        Index("ux_certificates_one_valid", "course_id", "user_id", unique=True,
              sqlite_where=text("status = 'valid'"), postgresql_where=text("status = 'valid'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folio: Mapped[str] = mapped_column(String(24), unique=True)  # e.g. K7QM-3XPA-9RTD-W2HF (80 random bits)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="valid")
    issued_at = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The snapshot printed on the PDF and shown by the verification page.
    participant_name: Mapped[str] = mapped_column(String(200))
    participant_run: Mapped[str] = mapped_column(String(10), default="")
    course_title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=0)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    final_grade: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    otec_name: Mapped[str] = mapped_column(String(200))
    otec_rut: Mapped[str] = mapped_column(String(10))
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    signature_file: Mapped[str] = mapped_column(String(80), default="")  # under UPLOAD_DIR/signatures
    # Revocation (the verification page then says "revocado", with no reason shown to the public).
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="SET NULL"))

    course = relationship("Course")
    user = relationship("User", foreign_keys=[user_id])
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])
    replaces = relationship("Certificate", remote_side=[id])

    @property
    def is_valid(self) -> bool:
        return self.status == "valid"


class CertificateSigner(db.Model):
    """Who signs an OTEC's certificates; the signature image is optional (stored under a generated name)."""

    __tablename__ = "certificate_signers"

    otec_id: Mapped[int] = mapped_column(ForeignKey("otecs.id", ondelete="CASCADE"), primary_key=True)
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    signature_file: Mapped[str] = mapped_column(String(80), default="")
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    otec = relationship("Otec")
