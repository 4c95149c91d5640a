"""Command palette (ctrl+p) commands for the main screen, named ``area: action`` as posting does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual import work
from textual.await_complete import AwaitComplete
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.css.query import NoMatches

from tui.data import Browser, SessionSummary
from tui.screens.mouse import IgnoreDetached
from tui.text import one_line

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

MIN_ID_PREFIX = 3

# Textual's search coroutine, without its ``@work`` wrapper (``functools.wraps`` keeps it).
_textual_gather_commands: Callable[[CommandPalette, str], Awaitable[None]] = (
    CommandPalette._gather_commands.__wrapped__  # type: ignore[attr-defined]
)


class GuardedCommandPalette(IgnoreDetached, CommandPalette):
    """Textual's command palette, dismissed at most once, and only while it is the screen on top.

    ``Screen.dismiss`` pops whatever screen is on top. Textual 8.2's palette can dismiss itself twice:
    two quick enters each select the highlighted command, so the second dismiss closed the main screen
    under the palette (and a third crashed the app on an empty screen stack). Found by the monkey
    (``tests/test_hardening_monkey.py``); the app opens this palette everywhere Textual opens its own.
    """

    _dismissed = False

    @property
    def _palette_gone(self) -> bool:
        """Dismissed, or its widgets already gone: nothing may touch the hits list any more."""
        return self._dismissed or not self.is_attached or not self.query(CommandList)

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:  # type: ignore[override]
        # Textual's search worker queries the hits list when it starts and again as hits arrive. A
        # keystroke still queued when the palette closed started a search on a palette without widgets,
        # and a search started just before it closed went on after its widgets were removed: NoMatches
        # in the worker crashed the app (seed 1, normal). Such a search has no one to show hits to.
        if self._palette_gone:
            return
        try:
            await _textual_gather_commands(self, search_value)
        except NoMatches:
            if not self._palette_gone:
                raise

    def _watch__list_visible(self) -> None:
        if not self._palette_gone:
            super()._watch__list_visible()

    async def _watch__show_busy(self) -> None:
        if not self._palette_gone:
            await super()._watch__show_busy()

    def _start_no_matches_countdown(self, search_value: str) -> None:
        if not self._palette_gone:
            super()._start_no_matches_countdown(search_value)

    def _action_command_list(self, action: str) -> None:
        # Textual 8.2's OptionList pages through a line map it cannot build while it has no size (the
        # hits list is hidden until hits arrive): pagedown typed before the hits showed raised KeyError.
        lists = self.query(CommandList)
        if action in ("page_up", "page_down") and (not lists or not lists.first().scrollable_content_region):
            return
        super()._action_command_list(action)

    def dismiss(self, result: None = None) -> AwaitComplete:
        if self._dismissed or not self.is_attached or self.app.screen is not self:
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)


class SessionCommands(Provider):
    """Filters, navigation, and "open session by id" for the main screen."""

    @property
    def main(self) -> MainScreen:
        return cast("MainScreen", self.screen)

    @property
    def browser(self) -> Browser:
        return cast(Browser, self.app.browser)  # type: ignore[attr-defined]

    async def startup(self) -> None:
        try:
            self._sources: list[str] = await asyncio.to_thread(self.browser.sources)
        except Exception:  # a palette must open even when the store is unhappy
            self._sources = []

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        main = self.main
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Filter: all sources", "Show sessions from every source", partial(main.set_source, None)),
            ("Filter: clear filters", "Drop the source and title filters", main.clear_filters),
            ("Go: newest session", "Move the list cursor to the most recent session", main.jump_newest),
            ("Go: oldest session", "Move the list cursor to the oldest session", main.jump_oldest),
            ("Search: messages", "Focus the search bar (/)", main.focus_search),
            ("Filter: titles and ids", "Focus the title filter (t)", main.focus_filter),
            ("Session: find by id or title", "Filter the list by id or title (or type an id here)", main.focus_filter),
            ("Filter: chain segments", "Compression chains: one row each (the newest part), or every segment (c)",
             main.toggle_segments),
            ("Rename session", "Edit the highlighted session's title in place (r)", main.action_rename),
            ("Delete session", "Delete the highlighted session, after asking (d)", main.action_delete),
            ("Export: session", "Export the highlighted session to a file (e)", main.action_export),
            ("Export: current filter", "Export the sessions the source and title filters list (all without one)",
             main.export_filtered),
            ("Export: everything", "Export every session to a file", partial(main.export_filtered, everything=True)),
            ("Prune: old sessions…", "Delete ended sessions older than an age (source filter applies)", main.prune),
            ("Stats", "Activity statistics: sessions, messages, tokens, cost (S)", main.action_stats),
        ]
        for source in self._sources:
            label = one_line(source, 40)
            commands.append(
                (f"Filter: source {label}", f"Only sessions from {label}", partial(main.set_source, source))
            )
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(Content(name), callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        needle = query.strip()
        for word in ("open ", "session "):
            if needle.lower().startswith(word):
                needle = needle[len(word):].strip()
        if len(needle) < MIN_ID_PREFIX or " " in needle:
            return
        try:
            found = await asyncio.to_thread(self.browser.find_sessions, needle, 10)
        except Exception:
            return
        for session in found:
            yield self._open_hit(session, needle)

    def _open_hit(self, session: SessionSummary, needle: str) -> Hit:
        exact = session.id.lower().startswith(needle.lower())
        label = Content.assemble(
            ("Open session ", ""),
            (one_line(session.id, 40), "bold"),
            ("  ", ""),
            (one_line(session.label, 50), "$text-muted"),
        )
        return Hit(
            0.95 if exact else 0.6,
            label,
            partial(self.main.open_session, session.id, focus=True),
            text=f"Open session {session.id}",
            help=f"{one_line(session.source, 20)} · {session.message_count} messages",
        )
