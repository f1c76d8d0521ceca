// The map under a point's fields in the back office (communities/points.py,
// templates/admin/includes/point_map.html): a click on it fills in the latitude and longitude of
// the point chosen (the page's own, or a row of an inline such as a compound's gates) in WGS-84,
// undoing the server's projection from the canvas's bounds, which is linear in both. Without this
// script the map is a picture and the fields are typed in, as they always can be.
const figure = document.querySelector("[data-point-map]");
const svg = figure && figure.querySelector("svg[data-south]");
const form = figure && figure.closest("form");

// "{name}" in a translated sentence (the template's {% translate %} would double a "%").
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => values[key]);

// Every point with its fields on the page, as [prefix of the field names, what to call it]: the
// page's own first, then each inline row that has one, new rows added by "Add another" included.
function targets() {
  const found = [];
  for (const input of form.querySelectorAll('input[name$="latitude"]')) {
    const prefix = input.name.slice(0, -"latitude".length);
    if (prefix.includes("__prefix__") || !form.elements[`${prefix}longitude`]) continue;
    const group = input.closest(".inline-group");
    if (!group) {
      found.unshift(["", figure.dataset.mainLabel]);
      continue;
    }
    const rows = [...group.querySelectorAll('input[name$="latitude"]')].filter(
      (each) => !each.name.includes("__prefix__"),
    );
    const heading = group.querySelector(".inline-heading");
    let label = fill(figure.dataset.rowLabel, {
      group: heading ? heading.textContent.trim() : prefix,
      n: rows.indexOf(input) + 1,
    });
    const name = form.elements[`${prefix}name`];
    if (name && name.value.trim()) label += ` · ${name.value.trim()}`;
    found.push([prefix, label]);
  }
  return found;
}

if (svg && form && targets().length) {
  const select = figure.querySelector("[data-point-map-target]");
  const status = figure.querySelector("[data-point-map-status]");
  const pick = svg.querySelector("[data-point-map-pick]");
  const [south, west, north, east] = ["south", "west", "north", "east"].map((edge) =>
    Number(svg.dataset[edge]),
  );

  const refresh = () => {
    const chosen = select.value;
    const options = targets().map(
      ([prefix, label]) => new Option(label, prefix, false, prefix === chosen),
    );
    select.replaceChildren(...options);
    figure.querySelector("[data-point-map-target-row]").hidden = options.length < 2;
  };
  refresh();
  figure.querySelector("[data-point-map-controls]").hidden = false;
  // The choice follows the rows: added, removed, or named.
  document.addEventListener("formset:added", refresh);
  document.addEventListener("formset:removed", refresh);
  form.addEventListener("change", (event) => {
    if (event.target.name && event.target.name.endsWith("name")) refresh();
  });

  svg.addEventListener("click", (event) => {
    const box = svg.viewBox.baseVal;
    const at = new DOMPoint(event.clientX, event.clientY).matrixTransform(
      svg.getScreenCTM().inverse(),
    );
    const lat = (north - ((at.y - box.y) / box.height) * (north - south)).toFixed(6);
    const lng = (west + ((at.x - box.x) / box.width) * (east - west)).toFixed(6);
    const prefix = select.value;
    const fields = [
      [`${prefix}latitude`, lat],
      [`${prefix}longitude`, lng],
      [`${prefix}point_system`, "wgs84"],
    ];
    for (const [name, value] of fields) {
      const field = form.elements[name];
      if (!field) continue;
      field.value = value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
    pick.setAttribute("transform", `translate(${at.x.toFixed(1)} ${at.y.toFixed(1)})`);
    pick.setAttribute("visibility", "visible");
    const target = select.options[select.selectedIndex];
    status.textContent = fill(figure.dataset.picked, {
      target: target ? target.text : "",
      lat,
      lng,
    });
  });
}
