// Tabs after the WAI-ARIA tabs pattern, with manual activation: the arrow keys (and Home,
// End) move the focus between the tabs; Enter follows the focused tab's link to its page.
"use strict";

function setUpTabs(list) {
  const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
  list.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: tabs.length - 1,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    tabs[(moves[event.key] + tabs.length) % tabs.length].focus();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('[role="tablist"]').forEach(setUpTabs);
});
