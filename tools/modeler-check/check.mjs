#!/usr/bin/env node
// Modeler check: do our BPMN/DMN files load in Camunda Modeler 5 (Camunda Platform 7.22) as they
// should, and are they readable when opened?
//
// For every .bpmn / .dmn under the given files or folders (recursively):
//   - parse with bpmn-moddle + camunda-bpmn-moddle / dmn-moddle + camunda-dmn-moddle; every import
//     warning (unknown element or attribute in a known namespace, unresolved reference) is a
//     finding, as is a local DMN href ("#id") that points at nothing;
//   - the definitions declare modeler:executionPlatform "Camunda Platform", version 7.22.x;
//   - BPMN: bpmnlint with bpmnlint:recommended + plugin:camunda-compat/camunda-platform-7-22;
//     every report of category "error" (or a crashing rule) is a finding; "warn" reports go to
//     stderr only;
//   - diagram interchange: every flow node, sequence flow, lane, participant, message flow,
//     artifact, data reference and data association (BPMN) / DRG element, requirement, text
//     annotation and association (DMN) has a shape or edge; no two shapes on one plane overlap,
//     except a shape lying wholly inside an expanded sub-process, participant or lane (or DMN
//     decision service) and a boundary event on its host. Groups are overlays and are ignored;
//     an edge (sequence/message flow, association, DMN requirement) starts and ends within 5px
//     of its source/target shape on the same plane, otherwise it is drawn detached.
//
// Output: one line per finding on stdout, `file:element-id: message` ("-" when there is no id).
// Exit status: 0 clean, 1 findings, 2 usage error.

import { realpathSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import { BpmnModdle } from 'bpmn-moddle';
import { DmnModdle } from 'dmn-moddle';

const require = createRequire(import.meta.url);

const camundaBpmn = require('camunda-bpmn-moddle/resources/camunda.json');
const camundaDmn = require('camunda-dmn-moddle/resources/camunda.json');
const { Linter } = require('bpmnlint');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');

export const LINT_CONFIG = {
  extends: [ 'bpmnlint:recommended', 'plugin:camunda-compat/camunda-platform-7-22' ]
};

// ---------------------------------------------------------------------------------------------
// helpers

function idOf(element) {
  for (let e = element; e; e = e.$parent) {
    if (e.id) {
      return e.id;
    }
  }
  return '-';
}

function oneLine(message) {
  return String(message).split(/\n\s*/).filter(Boolean).join('; ');
}

/** Depth-first walk over a moddle tree (containment only, never references). */
function walk(element, visit, seen = new Set()) {
  if (!element || typeof element !== 'object' || !element.$descriptor || seen.has(element)) {
    return;
  }
  seen.add(element);
  visit(element);

  // generic elements (foreign namespaces inside extensionElements) have no typed properties
  for (const prop of element.$descriptor.properties || []) {
    if (prop.isReference || prop.isAttr) {
      continue;
    }
    const value = element.get(prop.name);
    const children = Array.isArray(value) ? value : [ value ];
    for (const child of children) {
      walk(child, visit, seen);
    }
  }
}

function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function contains(outer, inner) {
  return inner.x >= outer.x && inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height;
}

function fmtBounds(b) {
  return `(${b.x},${b.y} ${b.width}x${b.height})`;
}

/**
 * Overlap check for the shapes of one plane.
 *
 * @param { { id: string, bounds: any, container: boolean, host?: string }[] } shapes
 * @param { (id: string, message: string) => void } report
 */
function checkOverlaps(shapes, report) {
  for (let i = 0; i < shapes.length; i++) {
    for (let j = i + 1; j < shapes.length; j++) {
      const a = shapes[i];
      const b = shapes[j];

      if (!overlaps(a.bounds, b.bounds)) {
        continue;
      }
      if ((a.container && contains(a.bounds, b.bounds)) || (b.container && contains(b.bounds, a.bounds))) {
        continue;
      }
      if ((a.host && a.host === b.id) || (b.host && b.host === a.id)) {
        continue;
      }

      if (a.container || b.container) {
        // report on the smaller shape: the one that sticks out of the other
        const area = s => s.bounds.width * s.bounds.height;
        const [ inner, outer ] = area(a) <= area(b) ? [ a, b ] : [ b, a ];
        report(inner.id, `shape ${fmtBounds(inner.bounds)} crosses the boundary of ${outer.id} ${fmtBounds(outer.bounds)}`);
      } else {
        report(a.id, `shape ${fmtBounds(a.bounds)} overlaps ${b.id} ${fmtBounds(b.bounds)}`);
      }
    }
  }
}

/**
 * Id of the innermost element with an id that encloses the given position (0-based line and
 * column, as saxen reports them in moddle-xml's warnings for unparsable content, which carry no
 * element).
 */
function enclosingId(xml, line, column) {
  const lines = xml.split('\n');
  const upTo = lines.slice(0, line).join('\n').length + (line > 0 ? 1 : 0) + column;
  const text = xml.slice(0, upTo).replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const stack = [];
  for (const m of text.matchAll(/<(\/?)([\w:.-]+)([^>]*?)(\/?)>/g)) {
    const [ , closing, name, attrs, selfClosing ] = m;
    if (closing) {
      const at = stack.map(e => e.name).lastIndexOf(name);
      if (at >= 0) {
        stack.length = at;
      }
    } else if (!selfClosing) {
      const id = /\sid="([^"]*)"/.exec(attrs);
      stack.push({ name, id: id && id[1] });
    }
  }
  for (let i = stack.length - 1; i >= 0; i--) {
    if (stack[i].id) {
      return stack[i].id;
    }
  }
  return '-';
}

// how far (px) an edge's first/last waypoint may lie outside its source/target shape
const DOCKING_TOLERANCE = 5;

function near(point, b) {
  const t = DOCKING_TOLERANCE;
  return point.x >= b.x - t && point.x <= b.x + b.width + t && point.y >= b.y - t && point.y <= b.y + b.height + t;
}

/**
 * An edge must start at its source's shape and end at its target's shape (on the same plane),
 * otherwise the connection is drawn detached from what it connects.
 *
 * @param { { id: string, kind: string, waypoints: any[], source: any, target: any }[] } edges
 * @param { Map<any, any> } boundsOf semantic element -> shape bounds on this plane
 */
function checkEdgeEnds(edges, boundsOf, report) {
  for (const edge of edges) {
    const points = edge.waypoints || [];
    if (points.length < 2) {
      continue;
    }
    const ends = [ [ 'starts', points[0], edge.source, 'source' ], [ 'ends', points[points.length - 1], edge.target, 'target' ] ];
    for (const [ verb, point, element, role ] of ends) {
      const bounds = element && boundsOf.get(element);
      if (bounds && !near(point, bounds)) {
        report(edge.id, `${edge.kind} edge ${verb} at (${point.x},${point.y}), away from its ${role} ${element.id} ${fmtBounds(bounds)}`);
      }
    }
  }
}

const MODELER_NS = 'http://camunda.org/schema/modeler/1.0';
export const EXECUTION_PLATFORM = 'Camunda Platform';
export const EXECUTION_PLATFORM_VERSION = /^7\.22(\.\d+)?$/;

/**
 * Camunda Modeler 5 records the engine a file targets on its definitions
 * (modeler:executionPlatform / modeler:executionPlatformVersion) and lints it against that
 * engine: the files must say Camunda Platform 7.22.
 */
function checkExecutionPlatform(definitions, report) {
  const attrs = definitions.$attrs || {};
  const modelerAttr = local => {
    for (const [ name, value ] of Object.entries(attrs)) {
      const [ prefix, rest ] = name.includes(':') ? name.split(':') : [ '', name ];
      if (rest === local && prefix && attrs['xmlns:' + prefix] === MODELER_NS) {
        return value;
      }
    }
    return undefined;
  };
  const platform = modelerAttr('executionPlatform');
  const version = modelerAttr('executionPlatformVersion');
  if (platform !== EXECUTION_PLATFORM || !EXECUTION_PLATFORM_VERSION.test(version || '')) {
    report(definitions.id || '-',
      `modeler:executionPlatform/executionPlatformVersion are ${JSON.stringify(platform ?? null)}/${JSON.stringify(version ?? null)}, ` +
      `expected "${EXECUTION_PLATFORM}"/"7.22.x" (as Camunda Modeler 5 saves a Camunda 7.22 file)`);
  }
}

function moddleWarnings(warnings, report, xml) {
  for (const warning of warnings) {
    let id = '-';
    if (warning.element) {
      id = idOf(warning.element);
    } else {
      const pos = /line: (\d+)\s+column: (\d+)/.exec(warning.message || '');
      if (pos) {
        id = enclosingId(xml, Number(pos[1]), Number(pos[2]));
      }
    }
    // saxen counts lines and columns from 0; print them 1-based like an editor does
    const message = oneLine(warning.message)
      .replace(/line: (\d+); column: (\d+)/, (_, l, c) => `line ${Number(l) + 1}, column ${Number(c) + 1}`);
    report(id, 'import warning: ' + message);
  }
}

// ---------------------------------------------------------------------------------------------
// BPMN

const BPMN_NEEDS_SHAPE = [
  'bpmn:FlowNode', 'bpmn:Participant', 'bpmn:Lane', 'bpmn:TextAnnotation', 'bpmn:Group',
  'bpmn:DataObjectReference', 'bpmn:DataStoreReference'
];
const BPMN_NEEDS_EDGE = [
  'bpmn:SequenceFlow', 'bpmn:MessageFlow', 'bpmn:Association',
  'bpmn:DataInputAssociation', 'bpmn:DataOutputAssociation'
];

function isAny(element, types) {
  return types.some(t => element.$instanceOf(t));
}

function isContainer(element, di) {
  if (element.$instanceOf('bpmn:Participant') || element.$instanceOf('bpmn:Lane')) {
    return true;
  }
  return element.$instanceOf('bpmn:SubProcess') && di.isExpanded === true;
}

async function checkBpmn(xml, report, lintWarn) {
  const moddle = BpmnModdle({ camunda: camundaBpmn });

  let parsed;
  try {
    parsed = await moddle.fromXML(xml, 'bpmn:Definitions');
  } catch (err) {
    moddleWarnings(err.warnings || [], report, xml);
    report('-', 'parse error: ' + oneLine(err.message));
    return;
  }
  const { rootElement: definitions, warnings } = parsed;
  moddleWarnings(warnings, report, xml);
  checkExecutionPlatform(definitions, report);

  // diagram interchange: what has a shape/edge, and where
  const diOf = new Map(); // semantic element -> [di]
  const planes = []; // { id, shapes: [] }

  for (const diagram of definitions.diagrams || []) {
    const plane = diagram.plane;
    if (!plane) {
      report(diagram.id || '-', 'BPMNDiagram has no BPMNPlane');
      continue;
    }
    if (!plane.bpmnElement) {
      report(plane.id || '-', 'BPMNPlane references no process, collaboration or sub-process');
    }
    const entry = { id: plane.id, shapes: [], boundsOf: new Map(), edges: [] };
    planes.push(entry);

    for (const di of plane.planeElement || []) {
      const element = di.bpmnElement;
      if (!element) {
        report(di.id || '-', `${di.$type} has no bpmnElement`);
        continue;
      }
      const list = diOf.get(element) || [];
      list.push(di);
      diOf.set(element, list);

      if (di.$instanceOf('bpmndi:BPMNShape')) {
        if (!di.bounds) {
          report(element.id || '-', `BPMNShape ${di.id || ''} has no bounds`.replace('  ', ' '));
          continue;
        }
        entry.boundsOf.set(element, di.bounds);
        if (element.$instanceOf('bpmn:Group')) {
          continue;
        }
        entry.shapes.push({
          id: element.id || '-',
          bounds: di.bounds,
          container: isContainer(element, di),
          host: element.$instanceOf('bpmn:BoundaryEvent') && element.attachedToRef ? element.attachedToRef.id : undefined
        });
      } else if (di.$instanceOf('bpmndi:BPMNEdge')) {
        if (!di.waypoint || di.waypoint.length < 2) {
          report(element.id || '-', 'BPMNEdge has fewer than 2 waypoints');
        }
        if (isAny(element, [ 'bpmn:SequenceFlow', 'bpmn:MessageFlow', 'bpmn:Association' ])) {
          entry.edges.push({
            id: element.id || '-',
            kind: element.$type.replace(/^bpmn:/, ''),
            waypoints: di.waypoint,
            source: element.sourceRef,
            target: element.targetRef
          });
        }
      }
    }
  }

  if (!(definitions.diagrams || []).length) {
    report(definitions.id || '-', 'no BPMNDiagram: the file has no diagram interchange at all');
  }

  walk(definitions, element => {
    const needsShape = isAny(element, BPMN_NEEDS_SHAPE);
    const needsEdge = !needsShape && isAny(element, BPMN_NEEDS_EDGE);
    if (!needsShape && !needsEdge) {
      return;
    }
    // a participant is drawn only as part of a collaboration
    const dis = diOf.get(element) || [];
    const want = needsShape ? 'bpmndi:BPMNShape' : 'bpmndi:BPMNEdge';
    const matching = dis.filter(di => di.$instanceOf(want));
    const kind = element.$type.replace(/^bpmn:/, '');

    if (!element.id) {
      report(idOf(element), `${kind} without id cannot have a ${want.replace('bpmndi:', '')}`);
    } else if (!matching.length) {
      report(element.id, `${kind} has no ${want.replace('bpmndi:', '')} (missing diagram interchange)`);
    } else if (matching.length > 1) {
      report(element.id, `${kind} has ${matching.length} ${want.replace('bpmndi:', '')}s`);
    }
    if (dis.length > matching.length) {
      report(element.id || '-', `${kind} is referenced by a ${dis.find(di => !di.$instanceOf(want)).$type}, expected ${want}`);
    }
  });

  for (const plane of planes) {
    checkOverlaps(plane.shapes, report);
    checkEdgeEnds(plane.edges, plane.boundsOf, report);
  }

  // bpmnlint
  const linter = new Linter({
    config: LINT_CONFIG,
    resolver: new NodeResolver({ require })
  });
  const results = await linter.lint(definitions);
  for (const [ rule, reports ] of Object.entries(results)) {
    for (const r of reports) {
      const line = [ r.id || '-', `${oneLine(r.message)} (bpmnlint ${rule})` ];
      if (r.category === 'error' || r.category === 'rule-error') {
        report(...line);
      } else if (r.category === 'warn') {
        lintWarn(...line);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// DMN

const DMN_NEEDS_SHAPE = [ 'dmn:DRGElement', 'dmn:TextAnnotation' ];
const DMN_NEEDS_EDGE = [
  'dmn:InformationRequirement', 'dmn:KnowledgeRequirement', 'dmn:AuthorityRequirement', 'dmn:Association'
];
const DMN_HREFS = [
  'requiredDecision', 'requiredInput', 'requiredKnowledge', 'requiredAuthority', 'sourceRef', 'targetRef'
];

async function checkDmn(xml, report) {
  const moddle = DmnModdle({ camunda: camundaDmn });

  let parsed;
  try {
    parsed = await moddle.fromXML(xml, 'dmn:Definitions');
  } catch (err) {
    moddleWarnings(err.warnings || [], report, xml);
    report('-', 'parse error: ' + oneLine(err.message));
    return;
  }
  const { rootElement: definitions, warnings, elementsById } = parsed;
  moddleWarnings(warnings, report, xml);
  checkExecutionPlatform(definitions, report);

  const diOf = new Map();
  const diagrams = (definitions.dmnDI && definitions.dmnDI.diagrams) || [];

  if (!diagrams.length) {
    report(definitions.id || '-', 'no DMNDI diagram: the file has no diagram interchange at all');
  }

  const hrefTarget = ref => (ref && typeof ref.href === 'string' && ref.href.startsWith('#') ? elementsById[ref.href.slice(1)] : undefined);

  for (const diagram of diagrams) {
    const shapes = [];
    const boundsOf = new Map();
    const edges = [];
    for (const di of diagram.diagramElements || []) {
      const element = di.dmnElementRef;
      if (!element) {
        report(di.id || '-', `${di.$type} has no dmnElementRef`);
        continue;
      }
      const list = diOf.get(element) || [];
      list.push(di);
      diOf.set(element, list);

      if (di.$instanceOf('dmndi:DMNShape')) {
        if (!di.bounds) {
          report(element.id || '-', 'DMNShape has no bounds');
          continue;
        }
        boundsOf.set(element, di.bounds);
        shapes.push({
          id: element.id || '-',
          bounds: di.bounds,
          container: element.$instanceOf('dmn:DecisionService')
        });
      } else if (di.$instanceOf('dmndi:DMNEdge')) {
        if (!di.waypoint || di.waypoint.length < 2) {
          report(element.id || '-', 'DMNEdge has fewer than 2 waypoints');
        }
        const kind = element.$type.replace(/^dmn:/, '');
        if (element.$instanceOf('dmn:Association')) {
          edges.push({ id: element.id || '-', kind, waypoints: di.waypoint, source: hrefTarget(element.sourceRef), target: hrefTarget(element.targetRef) });
        } else if (isAny(element, DMN_NEEDS_EDGE)) {
          const required = [ 'requiredDecision', 'requiredInput', 'requiredKnowledge', 'requiredAuthority' ]
            .map(name => hrefTarget(element.get(name))).find(Boolean);
          edges.push({ id: element.id || '-', kind, waypoints: di.waypoint, source: required, target: element.$parent });
        }
      }
    }
    checkOverlaps(shapes, report);
    checkEdgeEnds(edges, boundsOf, report);
  }

  walk(definitions, element => {
    // local hrefs ("#id") must point at an element of this file
    for (const name of DMN_HREFS) {
      const ref = element.$descriptor.propertiesByName[name] && element.get(name);
      if (ref && typeof ref.href === 'string' && ref.href.startsWith('#') && !elementsById[ref.href.slice(1)]) {
        report(idOf(element), `unresolved reference <${ref.href}> in ${name}`);
      }
    }

    const needsShape = isAny(element, DMN_NEEDS_SHAPE);
    const needsEdge = !needsShape && isAny(element, DMN_NEEDS_EDGE);
    if (!needsShape && !needsEdge) {
      return;
    }
    const want = needsShape ? 'dmndi:DMNShape' : 'dmndi:DMNEdge';
    const kind = element.$type.replace(/^dmn:/, '');
    const dis = diOf.get(element) || [];
    const matching = dis.filter(di => di.$instanceOf(want));
    if (!element.id) {
      report(idOf(element), `${kind} without id cannot have a ${want.replace('dmndi:', '')}`);
    } else if (!matching.length) {
      report(element.id, `${kind} has no ${want.replace('dmndi:', '')} (missing diagram interchange)`);
    } else if (matching.length > 1) {
      report(element.id, `${kind} has ${matching.length} ${want.replace('dmndi:', '')}s`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// driver

async function collect(target, out) {
  let info;
  try {
    info = await stat(target);
  } catch (err) {
    throw new Error(`no such file or folder: ${target}`);
  }
  if (info.isFile()) {
    out.push(target);
    return;
  }
  const entries = (await readdir(target, { withFileTypes: true }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules') {
        await collect(full, out);
      }
    } else if (/\.(bpmn|dmn)$/i.test(entry.name)) {
      out.push(full);
    }
  }
}

/**
 * Check one file; returns findings as `{ id, message }` and lint warnings likewise.
 */
export async function checkFile(file) {
  const findings = [];
  const lintWarnings = [];
  const report = (id, message) => findings.push({ id, message });
  const lintWarn = (id, message) => lintWarnings.push({ id, message });

  try {
    const xml = await readFile(file, 'utf8');
    if (/\.bpmn$/i.test(file)) {
      await checkBpmn(xml, report, lintWarn);
    } else {
      await checkDmn(xml, report);
    }
  } catch (err) {
    // a crash on one file is a finding for that file, the others are still checked
    report('-', 'check failed: ' + oneLine(err && err.stack || err));
  }
  return { findings, lintWarnings };
}

async function main(argv) {
  const args = argv.filter(a => !a.startsWith('-'));
  const quiet = argv.includes('--quiet') || argv.includes('-q');
  if (!args.length || argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write('usage: node check.mjs [--quiet] <file-or-folder>...\n');
    return 2;
  }

  const files = [];
  try {
    for (const target of args) {
      await collect(target, files);
    }
  } catch (err) {
    process.stderr.write(`modeler-check: ${err.message}\n`);
    return 2;
  }

  let count = 0;
  for (const file of files) {
    const { findings, lintWarnings } = await checkFile(file);
    for (const f of findings) {
      process.stdout.write(`${file}:${f.id}: ${f.message}\n`);
    }
    if (!quiet) {
      for (const w of lintWarnings) {
        process.stderr.write(`${file}:${w.id}: warning: ${w.message}\n`);
      }
    }
    count += findings.length;
  }
  process.stderr.write(`modeler-check: ${files.length} file(s), ${count} finding(s)\n`);
  return count ? 1 : 0;
}

function isMain() {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(code => { process.exitCode = code; }, err => {
    process.stderr.write(`modeler-check: internal error: ${err && err.stack || err}\n`);
    process.exitCode = 2;
  });
}
