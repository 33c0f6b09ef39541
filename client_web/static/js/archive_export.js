// Export job page: poll the job's JSON status and update the progress bar in place until it is
// done or failed (without scripts the page refreshes itself instead: <noscript> meta refresh).
(() => {
  const box = document.getElementById("export-job");
  if (!box || box.dataset.state !== "running") return;
  const messages = JSON.parse(document.getElementById("export-messages").textContent);
  const text = (key) => messages[key] || key;
  const byId = (id) => document.getElementById(id);

  function cell(value, className) {
    const td = document.createElement("td");
    td.textContent = value;
    if (className) td.className = className;
    return td;
  }

  function show(status) {
    byId("export-progress").value = status.percent;
    byId("export-percent").textContent = `${status.percent}%`;
    byId("export-step").textContent = status.step;
    box.dataset.state = status.state;
    if (status.error) {
      byId("export-error").textContent = status.error;
      byId("export-error").hidden = false;
    }
    if (status.state !== "done") return;
    const verified = byId("export-verified");
    verified.textContent = text(status.verified ? "archive.export.verified" : "archive.export.not_verified");
    verified.className = status.verified ? "ok" : "error";
    const rows = byId("export-bags");
    rows.replaceChildren(...status.bags.map((bag) => {
      const tr = document.createElement("tr");
      const check = cell(text(bag.valid ? "archive.export.bag_ok" : "archive.export.bag_bad"));
      for (const problem of bag.problems) {
        const line = document.createElement("div");
        line.className = "error";
        line.textContent = problem;
        check.append(line);
      }
      tr.append(cell(bag.name, "code"), cell(String(bag.files)), cell(bag.payload_oxum, "code"), check);
      return tr;
    }));
    byId("export-download").href = status.download_url;
    byId("export-zip").textContent = status.zip_name;
    byId("export-kept").textContent = status.kept_until;
    byId("export-result").hidden = false;
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const status = await response.json();
        show(status);
        if (status.state !== "running") return;
      }
    } catch (error) {
      // the server may be restarting: keep asking
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
