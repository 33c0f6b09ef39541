// A filter box over a long list of choices (the departments of the scheduling form): typing hides the
// rows whose text does not contain what was typed. Rows with a choice made stay visible, so a filter
// never hides what will be submitted. Without scripts the whole list shows and the form still works.
for (const box of document.querySelectorAll("input[data-filter-list]")) {
  const list = document.querySelector(box.dataset.filterList);
  if (!list) continue;
  box.hidden = false;
  box.addEventListener("input", () => {
    const wanted = box.value.trim().toLowerCase();
    for (const row of list.querySelectorAll("[data-filter-text]")) {
      const chosen = row.querySelector("select")?.value;
      const matches = !wanted || row.dataset.filterText.toLowerCase().includes(wanted);
      row.hidden = !(matches || chosen);
    }
  });
}
