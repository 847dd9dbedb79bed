// Draw each pathway diagram with bpmn-js (NavigatedViewer) and mark where the patient is, or
// (on the lead's page) the elements a refused deploy found problems with.
// The marks are also said in words: a badge on each active or overdue task.
document.addEventListener("DOMContentLoaded", async () => {
  for (const box of document.querySelectorAll(".diagram[data-src], .diagram[data-xml]")) {
    const ids = (name) => (box.dataset[name] || "").split(" ").filter(Boolean);
    try {
      let xml = box.dataset.xml;
      if (xml === undefined) {
        const response = await fetch(box.dataset.src, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`diagram ${response.status}`);
        xml = await response.text();
      }
      const viewer = new BpmnJS({ container: box });
      await viewer.importXML(xml);
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
      for (const id of ids("errors")) {
        if (!registry.get(id)) continue;
        canvas.addMarker(id, "pw-overdue");
        const badge = document.createElement("span");
        badge.className = "pw-badge overdue";
        badge.textContent = "Problem";
        overlays.add(id, { position: { top: -12, left: 0 }, html: badge });
      }
      // a collapsed sub-process is drawn on its own plane: show the plane of the first problem,
      // else of the first open task, so what matters is on screen (the breadcrumbs lead back)
      const focus = [...ids("errors"), ...ids("overdue"), ...ids("active")]
        .map((id) => registry.get(id)).find((el) => el && el.type !== "bpmn:SubProcess");
      const root = focus && canvas.findRoot ? canvas.findRoot(focus) : null;
      if (root && root !== canvas.getRootElement()) canvas.setRootElement(root);
      canvas.zoom("fit-viewport");
      if (focus && ids("errors").length) {
        canvas.zoom(1);  // a finding is read at full size, scrolled into view
        canvas.scrollToElement(focus, { top: 120, bottom: 120, left: 200, right: 200 });
      }
      box.dataset.ready = "true";
    } catch (error) {
      box.textContent = `The diagram could not be shown (${error.message}).`;
      box.dataset.ready = "error";
    }
  }
});
