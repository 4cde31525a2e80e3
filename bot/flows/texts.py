"""Everything a candidate reads, by message id and language.

English and German are complete. A language without a catalogue falls back to English;
a missing key in a catalogue falls back to English for that message only.
"""

from __future__ import annotations

from typing import Any

CONSENT_VERSION = "2026-11-v1"

_EN: dict[str, str] = {
    # Start and consent
    "welcome": (
        "Hi {name}! Welcome to your async interview for {opening}{company}.\n"
        "There {are_questions}. You can answer whenever suits you before {deadline}."
    ),
    "consent": (
        "Before we start, please read this:\n"
        "• Your answers are recorded as voice or video and stored by the hiring team.\n"
        "• They are transcribed automatically on the team's own machine and read and watched "
        "by the people hiring for this role.\n"
        "• No automated scoring is used: people make every decision.\n"
        "• Your recordings are kept for this hiring process only and you can delete them at "
        "any time with /delete_my_data.\n"
        "Do you agree?"
    ),
    "consent.agree": "I agree",
    "consent.decline": "No, thanks",
    "consent_first": "Please answer the question above first: do you agree?",
    "declined": (
        "No problem — nothing was recorded. We've let the hiring team know. "
        "Thank you for your interest."
    ),
    # Questions
    "are_questions.one": "is 1 question",
    "are_questions.many": "are {count} questions",
    "intro": (
        "Question {number} of {total}.\n"
        "You'll have {prep} to prepare and up to {limit} to answer{takes}. "
        "Press Ready when you are — the question appears then."
    ),
    "intro.practice": (
        "First, a practice question so you can see how it works. It is never shared with "
        "anyone. You'll have {prep} to prepare and up to {limit} to answer. Press Ready."
    ),
    "takes.one": "",
    "takes.many": " ({count} takes)",
    "ready": "Ready",
    "question": (
        "Question {number} of {total}:\n{text}\n\n"
        "Take up to {prep} to think, then answer with a {types} of up to {limit}."
    ),
    "question.practice": ("Practice question:\n{text}\n\nAnswer with a {types} of up to {limit}."),
    "practice_done": (
        "Nice — that was {length}. That's all there is to it: this practice answer is not "
        "kept. Now the real questions."
    ),
    "review": (
        "Got it: {length} (take {take} of {max_takes}). Submit this answer, or record it again?"
    ),
    "review.last": "Got it: {length}. That was your last take, so please submit it.",
    "submit": "Submit ✅",
    "rerecord": "Record again 🔁 ({left} left)",
    "rerecord.go": "Okay — record it again whenever you're ready. ({left} left after this one.)",
    "rerecord.none": "You have no takes left for this question, so please submit this one.",
    "submitted": "Answer {number} submitted. Thank you!",
    "review_first": "Please choose first: submit your answer above, or record it again.",
    "press_ready_first": "Press Ready first, please — the question appears then.",
    "over_limit.strict": (
        "Your answer is {length} long, and this question allows up to {limit}. "
        "Please record a shorter answer — this one wasn't saved and doesn't count as a take."
    ),
    "over_limit.soft": "Heads-up: this answer is {length}, over the {limit} suggested.",
    "completed": (
        "That's everything — you've submitted all {total} answers. Thank you!\n"
        "What happens next: the hiring team reviews your answers and you'll hear back from "
        "them here by {respond_by}."
    ),
    "resume": "Welcome back! Let's continue where you left off.",
    "already_completed": (
        "You've already finished this interview — thank you! The hiring team will be in touch."
    ),
    # Invites
    "unknown_invite": (
        "I don't recognise this invitation link. Please open the exact link the recruiter sent "
        "you, or ask them for a new one."
    ),
    "no_invite": (
        "Hi! I run async interviews for hiring teams. To start, open the invitation link your "
        "recruiter sent you."
    ),
    "invite_taken": (
        "This invitation link has already been used from another Telegram account. "
        "If that wasn't you, please ask the recruiter for a new link."
    ),
    "invite_expired": (
        "This interview's deadline ({deadline}) has passed. If you need more time, you can "
        "ask the hiring team."
    ),
    "ask_more_time": "Ask for more time",
    "expired_now": (
        "The deadline for your interview ({deadline}) has passed, so it is now closed. If you "
        "still want to finish, you can ask the hiring team for more time."
    ),
    "not_answering": "There's no question waiting for an answer right now.",
    "withdrawn": "Your data for this interview was deleted, so there's nothing more to do here.",
    # Bad input
    "wrong_type": "This question needs a {types}. Please answer that way.",
    "text_not_allowed": (
        "Thanks! This question needs a spoken answer, though: please send a {types}."
    ),
    "too_big": (
        "That file is too big for me to receive (the limit is {limit_mb} MB). "
        "Please record a shorter answer, or send it as a voice or video note."
    ),
    "no_sound": (
        "This file has no sound track, so there is nothing to listen to. Please record your "
        "answer again as a {types} with sound."
    ),
    "unreadable": (
        "I couldn't open this file: it looks damaged or isn't a recording I can play. "
        "Please record your answer again as a {types}."
    ),
    "not_media.sticker": "Nice sticker! To answer, please send a {types}.",
    "not_media.photo": "I can't use photos as answers. Please send a {types}.",
    "not_media.animation": "I can't use GIFs as answers. Please send a {types}.",
    "not_media.location": "I don't need your location. To answer, please send a {types}.",
    "not_media.contact": "I don't need a contact. To answer, please send a {types}.",
    "not_media.poll": "I can't answer polls, sorry. To answer the question, send a {types}.",
    "not_media.document": ("That file isn't a recording I can use. Please send a {types}."),
    "not_media.other": "I can't use that as an answer. Please send a {types}.",
    # Reminders and deadline
    "remind.not_started": (
        "Hi {name}, a friendly reminder: your interview for {opening} is waiting for you. "
        "It takes about {minutes} minutes, any time before {deadline}. Send /start to begin."
    ),
    "remind.before_deadline": (
        "Hi {name}, a reminder: your interview for {opening} closes on {deadline}. "
        "You've answered {answered} of {total}. Send /start to continue."
    ),
    # Commands
    "help": (
        "How this works: I ask you the questions one at a time. For each, press Ready, take a "
        "moment to think, then answer with a voice note (hold the microphone) or a video "
        "note. You can listen back and record again before you submit.\n\n"
        "/status — your progress and the deadline\n"
        "/more_time — ask the hiring team for more time\n"
        "/language — change the language\n"
        "/timezone — set your time zone (e.g. /timezone Europe/Berlin)\n"
        "/delete_my_data — delete your recordings and personal details"
    ),
    "status": ("{opening}: you've answered {answered} of {total} questions. Deadline: {deadline}."),
    "status.none": "You don't have an interview with me yet.",
    "more_time.sent": (
        "I've asked the hiring team for more time. You'll hear back from them here."
    ),
    "more_time.pending": "Your request for more time is with the hiring team already.",
    "delete.confirm": (
        "This deletes your recordings, transcripts, answers and personal details for this "
        "interview, and withdraws you from the process. It can't be undone. Delete everything?"
    ),
    "delete.yes": "Yes, delete everything",
    "delete.no": "No, keep it",
    "delete.done": (
        "Done: your recordings, transcripts, answers and personal details are deleted, and "
        "the hiring team has been told you withdrew. Take care!"
    ),
    "delete.kept": "Okay, nothing was deleted.",
    "language.choose": "Which language would you like?",
    "language.set": "Okay, I'll write in English from now on.",
    "timezone.set": "Time zone set to {timezone}. Deadlines and reminders now use it.",
    "timezone.bad": (
        "I don't know the time zone '{value}'. Please send it like this: /timezone Europe/Berlin"
    ),
    "stale_button": "That button belongs to an earlier step.",
    "button_not_yours": "That button does not belong to your interview, so nothing was changed.",
    "went_wrong": "Sorry, something went wrong on our side. Please try again.",
    # Decisions
    "advanced": (
        "Good news, {name}! The hiring team for {opening} would like to move you forward to "
        "the next stage: {stage}. They'll contact you with the details."
    ),
    "rejected": (
        "Hi {name}, thank you for interviewing for {opening}. After careful review the team "
        "has decided not to move forward. We appreciate your time and wish you the best."
    ),
    # Names of answer types and durations
    "type.voice": "voice note",
    "type.video_note": "video note",
    "type.video": "video",
    "type.audio": "audio file",
    "type.text": "text message",
    "or": "or",
    "extension_approved": (
        "Hi {name}, good news: the hiring team for {opening} has given you more time. "
        "Your new deadline is {deadline}."
    ),
    "extension_denied": (
        "Hi {name}, the hiring team for {opening} can't extend your deadline this time. "
        "It stays {deadline}."
    ),
    "team_reminder": (
        "Hi {name}, a friendly reminder from the hiring team for {opening}: your async "
        "interview is waiting for you. Please finish by {deadline}."
    ),
    "seconds": "{n} s",
    "minutes": "{m}:{s:02d} min",
}

_DE: dict[str, str] = {
    "welcome": (
        "Hallo {name}! Willkommen zu deinem asynchronen Interview für {opening}{company}.\n"
        "Es {are_questions}. Du kannst antworten, wann es dir passt, bis {deadline}."
    ),
    "consent": (
        "Bevor wir anfangen, lies bitte kurz:\n"
        "• Deine Antworten werden als Sprach- oder Videonachricht aufgenommen und vom "
        "Hiring-Team gespeichert.\n"
        "• Sie werden automatisch auf dem eigenen Rechner des Teams transkribiert und von den "
        "Personen gelesen und angesehen, die diese Stelle besetzen.\n"
        "• Es gibt keine automatische Bewertung: Menschen treffen jede Entscheidung.\n"
        "• Deine Aufnahmen werden nur für dieses Verfahren aufbewahrt, und du kannst sie "
        "jederzeit mit /delete_my_data löschen.\n"
        "Bist du einverstanden?"
    ),
    "consent.agree": "Einverstanden",
    "consent.decline": "Nein, danke",
    "consent_first": "Bitte beantworte zuerst die Frage oben: Bist du einverstanden?",
    "declined": (
        "Kein Problem — es wurde nichts aufgenommen. Wir haben dem Hiring-Team Bescheid "
        "gegeben. Danke für dein Interesse."
    ),
    "are_questions.one": "gibt 1 Frage",
    "are_questions.many": "gibt {count} Fragen",
    "intro": (
        "Frage {number} von {total}.\n"
        "Du hast {prep} Vorbereitungszeit und bis zu {limit} für die Antwort{takes}. "
        "Drück auf Bereit, sobald du so weit bist — dann erscheint die Frage."
    ),
    "intro.practice": (
        "Zuerst eine Übungsfrage, damit du siehst, wie es funktioniert. Sie wird mit niemandem "
        "geteilt. Du hast {prep} Vorbereitungszeit und bis zu {limit} für die Antwort. "
        "Drück auf Bereit."
    ),
    "takes.one": "",
    "takes.many": " ({count} Versuche)",
    "ready": "Bereit",
    "question": (
        "Frage {number} von {total}:\n{text}\n\n"
        "Nimm dir bis zu {prep} zum Nachdenken und antworte dann mit einer {types} von bis zu "
        "{limit}."
    ),
    "question.practice": ("Übungsfrage:\n{text}\n\nAntworte mit einer {types} von bis zu {limit}."),
    "practice_done": (
        "Super — das waren {length}. So einfach geht's: Diese Übungsantwort wird nicht "
        "gespeichert. Jetzt kommen die echten Fragen."
    ),
    "review": (
        "Angekommen: {length} (Versuch {take} von {max_takes}). Antwort abschicken oder neu "
        "aufnehmen?"
    ),
    "review.last": "Angekommen: {length}. Das war dein letzter Versuch, bitte schick ihn ab.",
    "submit": "Abschicken ✅",
    "rerecord": "Neu aufnehmen 🔁 (noch {left})",
    "rerecord.go": "Okay — nimm sie neu auf, wann du willst. (Danach noch {left}.)",
    "rerecord.none": "Für diese Frage hast du keine Versuche mehr, bitte schick diese ab.",
    "submitted": "Antwort {number} abgeschickt. Danke!",
    "review_first": "Bitte wähle zuerst: Antwort oben abschicken oder neu aufnehmen.",
    "press_ready_first": "Bitte drück zuerst auf Bereit — dann erscheint die Frage.",
    "over_limit.strict": (
        "Deine Antwort ist {length} lang, erlaubt sind bis zu {limit}. Bitte nimm eine "
        "kürzere Antwort auf — diese wurde nicht gespeichert und zählt nicht als Versuch."
    ),
    "over_limit.soft": "Hinweis: Diese Antwort ist {length} lang, empfohlen sind {limit}.",
    "completed": (
        "Das war alles — du hast alle {total} Antworten abgeschickt. Danke!\n"
        "Wie es weitergeht: Das Hiring-Team sieht sich deine Antworten an, und du hörst hier "
        "bis {respond_by} von ihnen."
    ),
    "resume": "Willkommen zurück! Wir machen da weiter, wo du aufgehört hast.",
    "already_completed": (
        "Du hast dieses Interview schon abgeschlossen — danke! Das Hiring-Team meldet sich."
    ),
    "unknown_invite": (
        "Diesen Einladungslink kenne ich nicht. Bitte öffne genau den Link, den du bekommen "
        "hast, oder bitte um einen neuen."
    ),
    "no_invite": (
        "Hallo! Ich führe asynchrone Interviews für Hiring-Teams. Öffne zum Start den "
        "Einladungslink, den du bekommen hast."
    ),
    "invite_taken": (
        "Dieser Einladungslink wurde schon von einem anderen Telegram-Konto benutzt. Falls "
        "du das nicht warst, bitte um einen neuen Link."
    ),
    "invite_expired": (
        "Die Frist für dieses Interview ({deadline}) ist abgelaufen. Wenn du mehr Zeit "
        "brauchst, kannst du das Hiring-Team fragen."
    ),
    "ask_more_time": "Um mehr Zeit bitten",
    "expired_now": (
        "Die Frist für dein Interview ({deadline}) ist abgelaufen, es ist jetzt geschlossen. "
        "Wenn du es noch abschließen willst, kannst du um mehr Zeit bitten."
    ),
    "not_answering": "Gerade wartet keine Frage auf eine Antwort.",
    "withdrawn": "Deine Daten zu diesem Interview wurden gelöscht, hier ist nichts mehr zu tun.",
    "wrong_type": "Für diese Frage brauche ich eine {types}. Bitte antworte so.",
    "text_not_allowed": (
        "Danke! Diese Frage braucht aber eine gesprochene Antwort: bitte schick eine {types}."
    ),
    "too_big": (
        "Diese Datei ist zu groß für mich (die Grenze ist {limit_mb} MB). Bitte nimm eine "
        "kürzere Antwort auf oder schick sie als Sprach- oder Videonachricht."
    ),
    "no_sound": (
        "Diese Datei hat keine Tonspur, da gibt es nichts zu hören. Bitte nimm deine Antwort "
        "als {types} mit Ton neu auf."
    ),
    "unreadable": (
        "Ich konnte diese Datei nicht öffnen: Sie scheint beschädigt oder keine Aufnahme zu "
        "sein. Bitte nimm deine Antwort als {types} neu auf."
    ),
    "not_media.sticker": "Schöner Sticker! Zum Antworten schick bitte eine {types}.",
    "not_media.photo": "Fotos kann ich nicht als Antwort nehmen. Bitte schick eine {types}.",
    "not_media.animation": "GIFs kann ich nicht als Antwort nehmen. Bitte schick eine {types}.",
    "not_media.location": "Deinen Standort brauche ich nicht. Bitte schick eine {types}.",
    "not_media.contact": "Einen Kontakt brauche ich nicht. Bitte schick eine {types}.",
    "not_media.poll": "Umfragen kann ich nicht beantworten. Bitte schick eine {types}.",
    "not_media.document": (
        "Diese Datei ist keine Aufnahme, die ich nutzen kann. Bitte schick eine {types}."
    ),
    "not_media.other": "Das kann ich nicht als Antwort nehmen. Bitte schick eine {types}.",
    "remind.not_started": (
        "Hallo {name}, eine freundliche Erinnerung: Dein Interview für {opening} wartet auf "
        "dich. Es dauert etwa {minutes} Minuten, bis {deadline}. Schick /start zum Beginnen."
    ),
    "remind.before_deadline": (
        "Hallo {name}, eine Erinnerung: Dein Interview für {opening} schließt am {deadline}. "
        "Du hast {answered} von {total} beantwortet. Schick /start zum Weitermachen."
    ),
    "help": (
        "So funktioniert's: Ich stelle dir die Fragen nacheinander. Drück jeweils auf Bereit, "
        "denk kurz nach und antworte dann mit einer Sprachnachricht (Mikrofon gedrückt halten) "
        "oder einer Videonachricht. Vor dem Abschicken kannst du neu aufnehmen.\n\n"
        "/status — dein Fortschritt und die Frist\n"
        "/more_time — das Hiring-Team um mehr Zeit bitten\n"
        "/language — Sprache ändern\n"
        "/timezone — Zeitzone setzen (z. B. /timezone Europe/Berlin)\n"
        "/delete_my_data — deine Aufnahmen und persönlichen Daten löschen"
    ),
    "status": "{opening}: Du hast {answered} von {total} Fragen beantwortet. Frist: {deadline}.",
    "status.none": "Du hast noch kein Interview bei mir.",
    "more_time.sent": "Ich habe das Hiring-Team um mehr Zeit gebeten. Du hörst hier von ihnen.",
    "more_time.pending": "Deine Bitte um mehr Zeit liegt dem Hiring-Team schon vor.",
    "delete.confirm": (
        "Damit löschst du deine Aufnahmen, Transkripte, Antworten und persönlichen Daten zu "
        "diesem Interview und ziehst dich aus dem Verfahren zurück. Das lässt sich nicht "
        "rückgängig machen. Alles löschen?"
    ),
    "delete.yes": "Ja, alles löschen",
    "delete.no": "Nein, behalten",
    "delete.done": (
        "Erledigt: Deine Aufnahmen, Transkripte, Antworten und persönlichen Daten sind "
        "gelöscht, und das Hiring-Team weiß, dass du dich zurückgezogen hast. Alles Gute!"
    ),
    "delete.kept": "Okay, es wurde nichts gelöscht.",
    "language.choose": "Welche Sprache möchtest du?",
    "language.set": "Okay, ich schreibe ab jetzt auf Deutsch.",
    "timezone.set": "Zeitzone auf {timezone} gesetzt. Fristen und Erinnerungen nutzen sie jetzt.",
    "timezone.bad": (
        "Die Zeitzone '{value}' kenne ich nicht. Bitte schick sie so: /timezone Europe/Berlin"
    ),
    "stale_button": "Dieser Knopf gehört zu einem früheren Schritt.",
    "button_not_yours": (
        "Dieser Knopf gehört nicht zu deinem Interview, deshalb wurde nichts geändert."
    ),
    "went_wrong": (
        "Entschuldigung, bei uns ist etwas schiefgelaufen. Bitte versuche es noch einmal."
    ),
    "advanced": (
        "Gute Nachrichten, {name}! Das Hiring-Team für {opening} möchte mit dir in die nächste "
        "Runde gehen: {stage}. Sie melden sich mit den Details."
    ),
    "rejected": (
        "Hallo {name}, danke für dein Interview für {opening}. Nach sorgfältiger Prüfung hat "
        "sich das Team entschieden, nicht weiterzumachen. Danke für deine Zeit und alles Gute."
    ),
    "type.voice": "Sprachnachricht",
    "type.video_note": "Videonachricht",
    "type.video": "Video",
    "type.audio": "Audiodatei",
    "type.text": "Textnachricht",
    "or": "oder",
    "seconds": "{n} s",
    "minutes": "{m}:{s:02d} Min.",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": _EN, "de": _DE}
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}


def language_for(code: str | None) -> str:
    """A catalogue language for Telegram's ``language_code`` ("de-AT" → "de"), else English."""
    base = (code or "en").split("-")[0].lower()
    return base if base in CATALOGUES else "en"


def text(language: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``language`` (English where missing), filled with ``values``."""
    template = CATALOGUES.get(language, _EN).get(key) or _EN[key]
    return template.format(**values)


def list_types(language: str, types: list[str]) -> str:
    names = [text(language, f"type.{t}") for t in types]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {text(language, 'or')} " + names[-1]


def length(language: str, seconds: float) -> str:
    """A duration as a candidate reads it: "45 s", "2:05 min"."""
    whole = round(seconds)
    if whole < 60:
        return text(language, "seconds", n=whole)
    return text(language, "minutes", m=whole // 60, s=whole % 60)
