// Draw each pathway diagram with bpmn-js (NavigatedViewer) and mark where the patient is.
// The marks are also said in words: a badge on each active or overdue task.
document.addEventListener("DOMContentLoaded", async () => {
  for (const box of document.querySelectorAll(".diagram[data-src]")) {
    const ids = (name) => (box.dataset[name] || "").split(" ").filter(Boolean);
    try {
      const response = await fetch(box.dataset.src, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`diagram ${response.status}`);
      const viewer = new BpmnJS({ container: box });
      await viewer.importXML(await response.text());
      const canvas = viewer.get("canvas");
      const registry = viewer.get("elementRegistry");
      const overlays = viewer.get("overlays");
      const overdue = new Set(ids("overdue"));
      for (const id of ids("done")) if (registry.get(id)) canvas.addMarker(id, "pw-done");
      for (const id of ids("active")) {
        const element = registry.get(id);
        if (!element) continue;
        canvas.addMarker(id, overdue.has(id) ? "pw-overdue" : "pw-active");
        if (element.type === "bpmn:UserTask" || overdue.has(id)) {
          const badge = document.createElement("span");
          badge.className = overdue.has(id) ? "pw-badge overdue" : "pw-badge";
          badge.textContent = overdue.has(id) ? "Overdue" : "Now";
          overlays.add(id, { position: { top: -12, left: 0 }, html: badge });
        }
      }
      canvas.zoom("fit-viewport");
      box.dataset.ready = "true";
    } catch (error) {
      box.textContent = `The diagram could not be shown (${error.message}).`;
      box.dataset.ready = "error";
    }
  }
});
