//! Keyboard shortcuts: open, add, search, select all, clear, export, reload rules, copy, arrows.

use egui::{Key, KeyboardShortcut, Modifiers};

use super::commands::{Command, OpenMode, Pick, Scope};
use super::state::App;
use crate::records::batches::ExportFormat;

const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const ADD: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::O);
const FIND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
const SELECT_ALL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::A);
const SELECT_TAB: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::A);
const EXPORT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);
const RELOAD: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::R);
const COPY: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::C);

/// Reads the shortcuts of this frame and returns their commands.
pub fn read(ctx: &egui::Context, app: &App) -> Vec<Command> {
    let typing = ctx.egui_wants_keyboard_input();
    let mut commands = Vec::new();
    ctx.input_mut(|input| {
        // Longer combinations first, so Ctrl+Shift+O is not taken as Ctrl+O.
        if input.consume_shortcut(&ADD) {
            commands.push(Command::ShowDialog(Pick::Open(OpenMode::Add)));
        }
        if input.consume_shortcut(&OPEN) {
            commands.push(Command::ShowDialog(Pick::Open(OpenMode::Replace)));
        }
        if input.consume_shortcut(&FIND) {
            commands.push(Command::FocusSearch);
        }
        if input.consume_shortcut(&RELOAD) {
            commands.push(Command::ReloadRules);
        }
        if input.consume_shortcut(&EXPORT) {
            let scope = if app.selection.is_empty() {
                Scope::All
            } else {
                Scope::Selection
            };
            commands.push(Command::ShowDialog(Pick::Export(
                scope,
                ExportFormat::Ndjson,
            )));
        }
        if typing {
            return;
        }
        if input.consume_shortcut(&SELECT_TAB) {
            commands.push(Command::SelectAllInTab);
        }
        if input.consume_shortcut(&SELECT_ALL) {
            commands.push(Command::SelectAllInView);
        }
        if input.consume_shortcut(&COPY)
            && let Some(record) = app.focus
        {
            commands.push(Command::CopyEvent(record));
        }
        if input.consume_key(Modifiers::NONE, Key::Escape) {
            commands.push(Command::ClearSelection);
        }
        if input.consume_key(Modifiers::NONE, Key::ArrowDown) {
            commands.push(Command::MoveFocus(1));
        }
        if input.consume_key(Modifiers::NONE, Key::ArrowUp) {
            commands.push(Command::MoveFocus(-1));
        }
        if input.consume_key(Modifiers::NONE, Key::PageDown) {
            commands.push(Command::MoveFocus(20));
        }
        if input.consume_key(Modifiers::NONE, Key::PageUp) {
            commands.push(Command::MoveFocus(-20));
        }
    });
    commands
}
