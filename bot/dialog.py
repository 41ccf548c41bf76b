"""The /newcampaign dialog as a platform-neutral state machine.

title → message → variants → goal → launch moment → networks → story → picture → preview
(submit / edit / cancel). The variants step is optional (skipped with one button): other
wordings of the message, typed one at a time (``fr: …`` for one language's supporters) and
removed with a button; ``bot.domain.variants`` checks them. The story and the picture are
optional too: each offers "Skip". The picture arrives as a key the picture service gave once
it checked and stored the file (``handle_picture``); typed text where a picture is expected
is answered with how to send one.
Each step validates its input and re-asks with the precise reason. A message without a
hashtag is not refused but warned about (trending needs one): the organiser keeps it
with a button or types it again. Front ends only
render the ``DialogReply`` and feed back text or button actions; the state is a plain
dict-serialisable dataclass so it can be stored between messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.campaign import STORY_MAX, validate_goal, validate_story, validate_title
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.launch_time import parse_launch_moment
from bot.domain.message_rules import hashtags, validate_message
from bot.domain.networks import Network, NetworkSpec
from bot.domain.outgoing import Button, OutgoingMessage
from bot.domain.text import Text, t
from bot.domain.variants import (
    MAX_VARIANTS,
    Variant,
    check_variant,
    parse_variant,
    validate_variants,
    variant_lines,
    variants_from_data,
    variants_to_data,
)

ACTION_PREFIX = "dlg:"


class Step(StrEnum):
    TITLE = "title"
    MESSAGE = "message"
    GOAL = "goal"
    LAUNCH = "launch"
    NETWORKS = "networks"
    PREVIEW = "preview"
    EDIT_MENU = "edit_menu"
    CONFIRM_MESSAGE = "confirm_message"  # the message has no hashtag: keep it or retype it
    VARIANTS = "variants"  # other wordings of the message, optional
    STORY = "story"  # optional, typed text
    PICTURE = "picture"  # optional, a picture (never text)


TEXT_STEPS = (Step.TITLE, Step.MESSAGE, Step.GOAL, Step.LAUNCH)
OPTIONAL_STEPS = (Step.STORY, Step.PICTURE)
ORDER = (
    Step.TITLE,
    Step.MESSAGE,
    Step.VARIANTS,
    Step.GOAL,
    Step.LAUNCH,
    Step.NETWORKS,
    *OPTIONAL_STEPS,
)


@dataclass(frozen=True)
class CampaignDraft:
    """What the organiser answered, ready to submit."""

    title: str
    message: str
    goal: int
    launch_at: datetime
    networks: tuple[Network, ...]
    variants: tuple[Variant, ...] = ()
    story: str | None = None
    picture: str | None = None  # the picture service's key


@dataclass(frozen=True)
class FormAnswers:
    """What a front end that asks everything in one form (Discord) last put in it: the
    raw field values, the networks chosen, and a message kept without a hashtag (not
    asked about again). Kept with the dialog so the form reopens prefilled."""

    values: dict[str, str] = field(default_factory=dict)
    networks: tuple[str, ...] = ()
    kept_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": dict(self.values),
            "networks": list(self.networks),
            "kept_message": self.kept_message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormAnswers:
        kept = data.get("kept_message")
        return cls(
            {str(k): str(v) for k, v in dict(data.get("values", {})).items()},
            tuple(str(n) for n in data.get("networks", ())),
            str(kept) if kept is not None else None,
        )


@dataclass(frozen=True)
class DialogState:
    step: Step = Step.TITLE
    title: str | None = None
    message: str | None = None
    goal: int | None = None
    launch_at: datetime | None = None
    networks: tuple[Network, ...] = ()
    editing: bool = False
    form: FormAnswers | None = None
    variants: tuple[Variant, ...] = ()
    story: str | None = None
    picture: str | None = None

    def to_dict(self) -> dict[str, Any]:
        form = {} if self.form is None else {"form": self.form.to_dict()}
        return {
            **form,
            "step": self.step.value,
            "title": self.title,
            "message": self.message,
            "goal": self.goal,
            "launch_at": self.launch_at.isoformat() if self.launch_at else None,
            "networks": [str(n) for n in self.networks],
            "editing": self.editing,
            "variants": variants_to_data(self.variants),
            "story": self.story,
            "picture": self.picture,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DialogState:
        launch = data.get("launch_at")
        form = data.get("form")
        return cls(
            step=Step(data["step"]),
            title=data.get("title"),
            message=data.get("message"),
            goal=data.get("goal"),
            launch_at=datetime.fromisoformat(launch) if launch else None,
            networks=tuple(Network(n) for n in data.get("networks", ())),
            editing=bool(data.get("editing")),
            form=FormAnswers.from_dict(form) if form is not None else None,
            variants=variants_from_data(data.get("variants", [])),
            story=data.get("story"),
            picture=data.get("picture"),
        )

    def draft(self) -> CampaignDraft:
        assert self.title and self.message and self.goal is not None and self.launch_at
        return CampaignDraft(
            self.title,
            self.message,
            self.goal,
            self.launch_at,
            self.networks,
            self.variants,
            self.story,
            self.picture,
        )


@dataclass(frozen=True)
class DialogReply:
    """What to show next. ``state`` is None once the dialog is over."""

    state: DialogState | None
    message: OutgoingMessage
    submitted: CampaignDraft | None = None
    cancelled: bool = False
    errors: tuple[Text, ...] = field(default_factory=tuple)
    campaign_ref: str | None = None  # the campaign the submitted draft became


@dataclass(frozen=True)
class DialogRules:
    now: datetime
    tz: ZoneInfo
    min_lead: timedelta
    offered: tuple[NetworkSpec, ...]  # the registered networks, in their order

    @property
    def networks(self) -> tuple[Network, ...]:
        return tuple(spec.id for spec in self.offered)

    def specs(self, networks: Iterable[Network]) -> list[NetworkSpec]:
        """The specs of those of ``networks`` that are offered."""
        wanted = set(networks)
        return [spec for spec in self.offered if spec.id in wanted]


class NewCampaignDialog:
    """Drives one organiser through the campaign questions."""

    def __init__(self, rules: DialogRules) -> None:
        self.rules = rules

    def start(self, form: FormAnswers | None = None) -> DialogReply:
        return self._ask(DialogState(form=form))

    def ask(self, state: DialogState, error: Text | None = None) -> DialogReply:
        """Show ``state``'s question again, after ``error`` if one is given."""
        return self._ask(state, error=error)

    def handle_text(self, state: DialogState, text: str) -> DialogReply:
        if state.step is Step.CONFIRM_MESSAGE:  # typing again is rewriting the message
            state = replace(state, step=Step.MESSAGE)
        if state.step is Step.PICTURE:
            return self._ask(state, error=t("picture.expected"))
        if state.step is Step.VARIANTS:
            return self._add_variant(state, text)
        if state.step not in (*TEXT_STEPS, Step.STORY):
            return self._ask(state, error=t("dialog.use_buttons"))
        try:
            state = self._accept(state, text)
        except DomainError as exc:
            return self._ask(state, error=exc.text)
        if state.step is Step.MESSAGE and not hashtags(state.message or ""):
            return self._ask(replace(state, step=Step.CONFIRM_MESSAGE))
        return self._after(state)

    def handle_picture(self, state: DialogState, key: str) -> DialogReply:
        """The organiser sent a picture, already checked and stored under ``key``."""
        if state.step is not Step.PICTURE:
            return self._ask(state, error=t("picture.unexpected"))
        return self._ask(self._advance(replace(state, picture=key)))

    def handle_action(self, state: DialogState, action: str) -> DialogReply:
        name = action.removeprefix(ACTION_PREFIX)
        if name == "cancel":
            return DialogReply(None, OutgoingMessage.of(t("dialog.cancelled")), cancelled=True)
        if name.startswith("net:") and state.step is Step.NETWORKS:
            return self._toggle_network(state, name.removeprefix("net:"))
        if name == "networks_done" and state.step is Step.NETWORKS:
            if not state.networks:
                return self._ask(state, error=t("networks.none_chosen"))
            return self._ask(self._advance(state))
        if name == "skip" and state.step in OPTIONAL_STEPS:  # skipping removes what was there
            field_name = "story" if state.step is Step.STORY else "picture"
            return self._ask(self._advance(replace(state, **{field_name: None})))
        if name == "submit" and state.step is Step.PREVIEW:
            return self._submit(state)
        if name == "edit" and state.step is Step.PREVIEW:
            return self._ask(replace(state, step=Step.EDIT_MENU))
        if name.startswith("edit:") and state.step is Step.EDIT_MENU:
            try:
                step = Step(name.removeprefix("edit:"))
            except ValueError:
                return self._ask(state, error=t("dialog.use_buttons"))
            return self._ask(replace(state, step=step, editing=True))
        if name == "back" and state.step is Step.EDIT_MENU:
            return self._ask(replace(state, step=Step.PREVIEW))
        if name == "keep_message" and state.step is Step.CONFIRM_MESSAGE:
            return self._after(replace(state, step=Step.MESSAGE))
        if state.step is Step.VARIANTS and (
            name == "variants_done" or name.startswith("variant_rm:")
        ):
            return self._variant_action(state, name)
        if name == "rewrite_message" and state.step is Step.CONFIRM_MESSAGE:
            return self._ask(replace(state, step=Step.MESSAGE))
        return self._ask(state, error=t("dialog.stale_button"))

    def _accept(self, state: DialogState, text: str) -> DialogState:
        rules = self.rules
        if state.step is Step.TITLE:
            return replace(state, title=validate_title(text))
        if state.step is Step.MESSAGE:
            chosen = rules.specs(state.networks) if state.networks else rules.offered
            widest = max(chosen, key=lambda spec: spec.length.limit)
            message = validate_message(text, [widest])
            if state.networks:
                message = validate_message(message, chosen)
            return replace(state, message=message)
        if state.step is Step.GOAL:
            return replace(state, goal=validate_goal(text))
        if state.step is Step.STORY:
            return replace(state, story=validate_story(text))
        launch = parse_launch_moment(text, now=rules.now, tz=rules.tz, min_lead=rules.min_lead)
        return replace(state, launch_at=launch)

    def _after(self, state: DialogState) -> DialogReply:
        """Go on from an answered step; a changed message the variants no longer fit
        sends the organiser to the variants, with the reason."""
        if state.step is Step.MESSAGE and state.editing and state.variants:
            try:
                validate_variants(state.message or "", state.variants, self._variant_specs(state))
            except InvalidInput as exc:
                return self._ask(replace(state, step=Step.VARIANTS), error=exc.text)
        return self._ask(self._advance(state))

    def _advance(self, state: DialogState) -> DialogState:
        if state.editing:
            return replace(state, step=Step.PREVIEW)
        order = (*ORDER, Step.PREVIEW)
        following = order[order.index(state.step) + 1]
        if following is Step.NETWORKS and len(self.rules.networks) == 1:
            return replace(state, networks=self.rules.networks, step=Step.STORY)
        return replace(state, step=following)

    def _toggle_network(self, state: DialogState, value: str) -> DialogReply:
        network = Network(value)
        if network not in self.rules.networks:
            return self._ask(state, error=t("networks.unavailable", network=value))
        if network in state.networks:
            chosen = tuple(n for n in state.networks if n != network)
        else:
            try:
                validate_message(state.message or "", self.rules.specs([network]))
                validate_variants(state.message or "", state.variants, self.rules.specs([network]))
            except InvalidInput as exc:
                return self._ask(state, error=exc.text)
            chosen = tuple(n for n in self.rules.networks if n in (*state.networks, network))
        return self._ask(replace(state, networks=chosen))

    # ---- variants: other wordings of the message ---------------------------------------

    def _variant_specs(self, state: DialogState) -> list[NetworkSpec]:
        """The networks a variant must fit now: those chosen, else (not chosen yet) the
        widest offered, as for the message; choosing a network checks them again."""
        if state.networks:
            return self.rules.specs(state.networks)
        return [max(self.rules.offered, key=lambda spec: spec.length.limit)]

    def _add_variant(self, state: DialogState, text: str) -> DialogReply:
        if len(state.variants) >= MAX_VARIANTS:
            return self._ask(state, error=t("variants.too_many", max=MAX_VARIANTS + 1))
        try:
            variant = check_variant(
                state.message or "",
                parse_variant(text),
                self._variant_specs(state),
                number=len(state.variants) + 2,
                others=state.variants,
            )
        except InvalidInput as exc:
            return self._ask(state, error=exc.text)
        return self._ask(replace(state, variants=(*state.variants, variant)))

    def _variant_action(self, state: DialogState, name: str) -> DialogReply:
        if name == "variants_done":
            return self._ask(self._advance(state))
        try:
            number = int(name.removeprefix("variant_rm:"))
        except ValueError:
            return self._ask(state, error=t("dialog.stale_button"))
        if not 2 <= number <= len(state.variants) + 1:
            return self._ask(state, error=t("dialog.stale_button"))
        kept = state.variants[: number - 2] + state.variants[number - 1 :]
        return self._ask(replace(state, variants=kept))

    def _ask_variants(
        self, state: DialogState, parts: list[Text], buttons: list[tuple[Button, ...]]
    ) -> None:
        parts.append(t("variants.ask", max=MAX_VARIANTS + 1))
        parts.extend(variant_lines(state.variants))
        if len(state.variants) >= MAX_VARIANTS:
            parts.append(t("variants.full", max=MAX_VARIANTS + 1))
        removes = tuple(
            Button(
                t("variants.remove", number=number), action=f"{ACTION_PREFIX}variant_rm:{number}"
            )
            for number in range(2, len(state.variants) + 2)
        )
        if removes:
            buttons.append(removes)
        done = t("button.done") if state.variants else t("variants.skip")
        buttons.append((Button(done, action=f"{ACTION_PREFIX}variants_done"),))

    def _submit(self, state: DialogState) -> DialogReply:
        try:
            assert state.launch_at is not None
            parse_launch_moment(
                state.launch_at.isoformat(),
                now=self.rules.now,
                tz=self.rules.tz,
                min_lead=self.rules.min_lead,
            )
        except DomainError as exc:
            return self._ask(replace(state, step=Step.LAUNCH, editing=True), error=exc.text)
        try:
            validate_variants(
                state.message or "", state.variants, self.rules.specs(state.networks)
            )
        except InvalidInput as exc:
            return self._ask(replace(state, step=Step.VARIANTS, editing=True), error=exc.text)
        return DialogReply(
            None, OutgoingMessage.of(t("dialog.submitted")), submitted=state.draft()
        )

    def _ask(self, state: DialogState, error: Text | None = None) -> DialogReply:
        parts: list[Text] = [error] if error else []
        buttons: list[tuple[Button, ...]] = []
        cancel = Button(t("button.cancel"), action=f"{ACTION_PREFIX}cancel")
        if state.step in TEXT_STEPS:
            params: dict[str, Any] = {}
            if state.step is Step.MESSAGE:
                chosen = self.rules.specs(state.networks) if state.networks else self.rules.offered
                params["limit"] = min(spec.length.limit for spec in chosen)
            if state.step is Step.LAUNCH:
                params["minutes"] = int(self.rules.min_lead.total_seconds() // 60)
                params["timezone"] = self.rules.tz.key
            parts.append(Text(f"dialog.ask_{state.step.value}", params))
            buttons.append((cancel,))
        elif state.step is Step.NETWORKS:
            parts.append(t("dialog.ask_networks"))
            for network in self.rules.networks:
                mark = "✅ " if network in state.networks else ""
                label = t("button.network", mark=mark, network=t(f"network.{network}"))
                buttons.append((Button(label, action=f"{ACTION_PREFIX}net:{network}"),))
            buttons.append(
                (Button(t("button.done"), action=f"{ACTION_PREFIX}networks_done"), cancel)
            )
        elif state.step is Step.VARIANTS:
            self._ask_variants(state, parts, buttons)
            buttons.append((cancel,))
        elif state.step in OPTIONAL_STEPS:
            parts.append(t(f"dialog.ask_{state.step.value}", max=STORY_MAX))
            buttons.append(
                (Button(t("button.skip"), action=f"{ACTION_PREFIX}skip"), cancel),
            )
        elif state.step is Step.CONFIRM_MESSAGE:
            parts.append(t("dialog.no_hashtag"))
            buttons.append(
                (
                    Button(t("button.keep_message"), action=f"{ACTION_PREFIX}keep_message"),
                    Button(t("button.rewrite_message"), action=f"{ACTION_PREFIX}rewrite_message"),
                )
            )
            buttons.append((cancel,))
        elif state.step is Step.PREVIEW:
            parts.append(preview_text(state.draft()))
            if state.variants:
                parts.append(t("variants.heading"))
                parts.extend(variant_lines(state.variants))
            buttons.append(
                (
                    Button(t("button.submit"), action=f"{ACTION_PREFIX}submit"),
                    Button(t("button.edit"), action=f"{ACTION_PREFIX}edit"),
                    cancel,
                )
            )
        else:
            parts.append(t("dialog.ask_edit"))
            fields = ORDER
            buttons.extend(
                (Button(t(f"field.{s.value}"), action=f"{ACTION_PREFIX}edit:{s.value}"),)
                for s in fields
                if s is not Step.NETWORKS or len(self.rules.networks) > 1
            )
            buttons.append((Button(t("button.back"), action=f"{ACTION_PREFIX}back"),))
        errors = (error,) if error else ()
        return DialogReply(state, OutgoingMessage(tuple(parts), tuple(buttons)), errors=errors)


def preview_text(draft: CampaignDraft) -> Text:
    goal = t("goal.none") if draft.goal == 0 else t("goal.count", goal=draft.goal)
    networks = ", ".join(draft.networks)
    return t(
        "dialog.preview",
        title=draft.title,
        message=draft.message,
        goal=goal,
        launch_at=draft.launch_at,
        networks=networks,
        story=draft.story if draft.story else t("dialog.story_none"),
        picture=t("dialog.picture_attached" if draft.picture else "dialog.picture_none"),
    )
