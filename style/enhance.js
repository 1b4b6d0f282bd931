// Progressive enhancement only: every feature works without this script.
document.documentElement.classList.add("js");
