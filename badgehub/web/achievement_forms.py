"""Forms of the achievement pages. They parse and offer choices; the rules live in achievements.service."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice

from badgehub.achievements import images
from badgehub.achievements.models import AchievementVersion
from badgehub.achievements.service import DEFAULT_DESIGN, AchievementFields, UploadedImage
from badgehub.credentials.values import SELF_DECLARED_TYPE
from badgehub.territory.slugs import name_sort_key

# Every OB 3.0 AchievementType (OB3-BRIEF §2.6), and BadgeHub's self-declared extension, named for people.
ACHIEVEMENT_TYPE_LABELS: dict[str, Any] = {
    "Achievement": _l("Achievement"),
    "ApprenticeshipCertificate": _l("Apprenticeship certificate"),
    "Assessment": _l("Assessment"),
    "Assignment": _l("Assignment"),
    "AssociateDegree": _l("Associate degree"),
    "Award": _l("Award"),
    "Badge": _l("Badge"),
    "BachelorDegree": _l("Bachelor's degree"),
    "Certificate": _l("Certificate"),
    "CertificateOfCompletion": _l("Certificate of completion"),
    "Certification": _l("Certification"),
    "CommunityService": _l("Community service"),
    "Competency": _l("Competency"),
    "Course": _l("Course"),
    "CoCurricular": _l("Co-curricular activity"),
    "Degree": _l("Degree"),
    "Diploma": _l("Diploma"),
    "DoctoralDegree": _l("Doctoral degree"),
    "Fieldwork": _l("Fieldwork"),
    "GeneralEducationDevelopment": _l("General education development (GED)"),
    "JourneymanCertificate": _l("Journeyman certificate"),
    "LearningProgram": _l("Learning programme"),
    "License": _l("Licence"),
    "Membership": _l("Membership"),
    "ProfessionalDoctorate": _l("Professional doctorate"),
    "QualityAssuranceCredential": _l("Quality assurance credential"),
    "MasterCertificate": _l("Master certificate"),
    "MasterDegree": _l("Master's degree"),
    "MicroCredential": _l("Micro-credential"),
    "ResearchDoctorate": _l("Research doctorate"),
    "SecondarySchoolDiploma": _l("Secondary school diploma"),
    SELF_DECLARED_TYPE: _l("Self-declared (declared, not assessed)"),
}

SHAPE_LABELS: dict[str, Any] = {
    "circle": _l("Circle"), "shield": _l("Shield"), "hexagon": _l("Hexagon"), "rounded_square": _l("Rounded square"),
}
PICTOGRAM_LABELS: dict[str, Any] = {
    "star": _l("Star"), "book": _l("Book"), "leaf": _l("Leaf"), "gear": _l("Gear"), "heart": _l("Heart"),
    "speech": _l("Speech bubble"), "hand": _l("Raised hand"), "laptop": _l("Laptop"),
}

# The languages offered for a badge's text; a version in another language keeps its own in the list.
OFFERED_LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "nl", "ar", "tr", "pl", "ro", "uk")


def type_label(value: str) -> Any:
    """The name of an achievement type for people (the value itself for an ``ext:`` type)."""
    return ACHIEVEMENT_TYPE_LABELS.get(value, value)


def language_name(code: str) -> str:
    """A language code named in the page's language (``fr`` → "français" or "French")."""
    locale = get_locale()
    names = locale.languages if locale is not None else {}
    return str(names.get(code.split("-")[0], code))


def type_choices() -> list[SelectChoice]:
    return sorted((SelectChoice(value, label) for value, label in ACHIEVEMENT_TYPE_LABELS.items()),
                  key=lambda choice: name_sort_key(str(choice.label)))


def language_choices(current: str | None = None) -> list[SelectChoice]:
    codes = list(OFFERED_LANGUAGES)
    if current and current not in codes:
        codes.append(current)
    return [SelectChoice(code, language_name(code)) for code in codes]


IMAGE_KEEP, IMAGE_UPLOAD, IMAGE_GENERATE = "keep", "upload", "generate"


class AchievementForm(FlaskForm):
    """Everything an achievement says, and how its image is chosen."""

    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"))
    criteria_md = TextAreaField(_l("Criteria"))
    criteria_url = URLField(_l("Web page describing the criteria (optional)"))
    achievement_type = SelectField(_l("Kind of achievement"), default="Badge")
    tags = StringField(_l("Keywords (optional)"))
    in_language = SelectField(_l("Language of the badge"), default="fr")
    valid_for_days = StringField(_l("Valid for (days, optional)"))
    evidence_expected = TextAreaField(_l("Evidence expected (optional)"))
    # Checked by the service (with a message that says why), not against the offered list.
    competency_ids = SelectMultipleField(_l("Competencies"), coerce=int, validate_choice=False)
    # Territory themes: not part of the signed achievement (badgehub.catalogue.themes.set_achievement_themes).
    theme_ids = SelectMultipleField(_l("Themes"), coerce=int, validate_choice=False)
    image_mode = RadioField(_l("Image"), default=IMAGE_GENERATE, validate_choice=False)
    image_file = FileField(_l("Image file (PNG or SVG, at most 2 MB)"))
    shape = SelectField(_l("Shape"), choices=[SelectChoice(k, v) for k, v in SHAPE_LABELS.items()],
                        default=DEFAULT_DESIGN.shape, validate_choice=False)
    background = StringField(_l("Background colour"), default=DEFAULT_DESIGN.background)
    foreground = StringField(_l("Text and pictogram colour"), default=DEFAULT_DESIGN.foreground)
    pictogram = SelectField(_l("Pictogram"), choices=[SelectChoice(k, v) for k, v in PICTOGRAM_LABELS.items()],
                            default=DEFAULT_DESIGN.pictogram, validate_choice=False)
    preview = SubmitField(_l("Preview the generated image"))
    submit = SubmitField(_l("Create the badge"))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.achievement_type.choices = type_choices()
        self.in_language.choices = language_choices(self.in_language.data)
        modes = [SelectChoice(IMAGE_UPLOAD, _l("Upload an image")),
                 SelectChoice(IMAGE_GENERATE, _l("Draw one for me"))]
        if editing:
            modes.insert(0, SelectChoice(IMAGE_KEEP, _l("Keep the current image")))
            if self.image_mode.raw_data is None:
                self.image_mode.data = IMAGE_KEEP
        self.image_mode.choices = modes
        if editing:
            self.submit.label.text = _l("Save the badge")

    def fields(self) -> AchievementFields:
        """The typed values for the service, which validates them."""
        return AchievementFields(
            name=self.name.data or "", description=self.description.data or "",
            criteria_md=self.criteria_md.data or "", criteria_url=self.criteria_url.data or "",
            achievement_type=self.achievement_type.data or "", tags=self.tags.data or "",
            in_language=self.in_language.data or "", valid_for_days=self.valid_for_days.data or "",
            evidence_expected=self.evidence_expected.data or "", competency_ids=list(self.competency_ids.data or []))

    def design(self) -> images.Design:
        """The generated image's design (its text is the badge's name)."""
        return images.Design(shape=self.shape.data or "", background=(self.background.data or "").strip(),
                             foreground=(self.foreground.data or "").strip(), pictogram=self.pictogram.data or "",
                             text=self.name.data or "")

    def image_choice(self) -> UploadedImage | images.Design | None:
        """What to do with the image: an upload (read up to just past the size limit), a design, or None (keep)."""
        if self.image_mode.data == IMAGE_UPLOAD:
            storage = self.image_file.data
            readable = storage is not None and hasattr(storage, "read")
            return UploadedImage(storage.read(images.MAX_UPLOAD_BYTES + 1) if readable else b"")
        if self.image_mode.data == IMAGE_GENERATE:
            return self.design()
        return None

    def fill(self, version: AchievementVersion) -> None:
        """Show a version's values (on GET)."""
        self.name.data = version.name
        self.description.data = version.description
        self.criteria_md.data = version.criteria_md
        self.criteria_url.data = version.criteria_url or ""
        self.achievement_type.data = version.achievement_type
        self.tags.data = ", ".join(version.tags or [])
        self.in_language.data = version.in_language
        self.in_language.choices = language_choices(version.in_language)
        self.valid_for_days.data = "" if version.valid_for_days is None else str(version.valid_for_days)
        self.evidence_expected.data = version.evidence_expected
        self.competency_ids.data = [alignment.competency_id for alignment in version.alignments]
        if version.image_source == "generated" and version.image_params:
            design = images.Design.from_params(version.image_params)
            self.shape.data, self.pictogram.data = design.shape, design.pictogram
            self.background.data, self.foreground.data = design.background, design.foreground


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (archive, restore)."""
