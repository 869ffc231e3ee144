// Fails the firmware build on syntax and APIs the Espruino interpreter cannot run (docs/espruino.md),
// checked over the TypeScript source AST and, for what esbuild may inject, over the bundle text.
import ts from "typescript";
import { ESPRUINO_GLOBALS, MISSING_GLOBALS, MISSING_PROTOTYPE_METHODS, MISSING_STATIC_MEMBERS } from "./espruinoPlatform";

export interface Violation {
  file: string;
  line: number;
  rule: string;
  message: string;
}

const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else export extends finally for function if import in " +
    "instanceof new return super switch this throw try typeof var void while with yield let static enum await implements " +
    "package protected interface private public null true false").split(" "),
);

const MISSING_GLOBAL_NAMES = new Set(MISSING_GLOBALS);
const MISSING_MEMBERS = new Set(MISSING_STATIC_MEMBERS);
/** method names checked on any object: the type is unknown to a syntax check */
const MISSING_METHODS = new Set(MISSING_PROTOTYPE_METHODS.map((m) => m.slice(m.lastIndexOf(".") + 1)));
/** Espruino globals: only the Espruino HAL and the entry may name them (docs/architecture.md "Layers"). */
const ESPRUINO_GLOBAL_NAMES = new Set(ESPRUINO_GLOBALS);

/** Bundle text that means esbuild injected a helper Espruino cannot run, or the bundle has module glue. */
export const FORBIDDEN_BUNDLE_TEXT: [RegExp, string][] = [
  [/WeakMap/, "WeakMap (from #private or a WeakMap use)"],
  [/__privateGet|__privateAdd|__privateSet/, "#private helper"],
  [/__spreadValues|__spreadProps|__objRest/, "object spread/rest helper"],
  [/__async\b/, "async helper"],
  [/__toESM|__commonJS|__export\b|__reExport/, "module interop helper"],
  [/__require\b/, "__require (iife format hides require from the espruino CLI)"],
  [/__publicField|__defNormalProp/, "class field helper"],
  [/function\s*\*/, "generator function"],
  [/\\u\{[0-9A-Fa-f]+\}/, "a \\u{...} escape (esbuild writes it for characters above U+FFFF; Espruino: Invalid escape sequence)"],
  [/\b(BigInt|Symbol|Proxy|Reflect)\b|\bnew (Map|Set|WeakSet)\b/, "a global Espruino lacks"],
  [/\bmodule\.exports\b|\bexports\.[A-Za-z_$]/, "CommonJS exports (module is undefined at Espruino's top level)"],
];

export function checkBundleText(file: string, text: string): Violation[] {
  const out: Violation[] = [];
  for (let i = 0; i < FORBIDDEN_BUNDLE_TEXT.length; i++) {
    const [re, what] = FORBIDDEN_BUNDLE_TEXT[i];
    const m = re.exec(text);
    if (m) out.push({ file, line: lineOf(text, m.index), rule: "bundle-helper", message: "bundle contains " + what + ": '" + m[0] + "'" });
  }
  return out;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export interface CheckOptions {
  /** the file may name Espruino globals (firmware/hal/espruino.ts, firmware/main.ts) */
  mayUseEspruinoGlobals?: boolean;
  /** the file is the bundle entry: it must not export */
  isEntry?: boolean;
}

/** Checks one TypeScript (or JavaScript) source text. */
export function checkSource(file: string, text: string, opts: CheckOptions = {}): Violation[] {
  const kind = file.endsWith(".js") ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const out: Violation[] = [];
  const report = (node: ts.Node, rule: string, message: string) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push({ file, line: line + 1, rule, message });
  };

  const visit = (node: ts.Node): void => {
    // types vanish at compile time: nothing inside them reaches the device
    if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (ts.isModuleDeclaration(node) || hasModifier(node, ts.SyntaxKind.DeclareKeyword)) return;
    checkNode(node, sf, report, opts);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.sort((a, b) => a.line - b.line);
}

type Report = (node: ts.Node, rule: string, message: string) => void;

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  return !!mods && mods.some((m) => m.kind === kind);
}

function checkNode(node: ts.Node, sf: ts.SourceFile, report: Report, opts: CheckOptions): void {
  if (ts.isLabeledStatement(node)) report(node, "label", "labels ('" + node.label.text + ":') are not supported");
  else if (ts.isComputedPropertyName(node)) report(node, "computed-key", "computed keys/method names ([expr]) are not supported");
  else if (ts.isTaggedTemplateExpression(node)) report(node, "tagged-template", "tagged templates are not supported");
  else if (ts.isPrivateIdentifier(node)) report(node, "private-field", "#private members compile to WeakMap helpers");
  else if (ts.isSpreadAssignment(node)) report(node, "object-spread", "object spread ({...x}) compiles to a helper Espruino cannot run");
  else if (ts.isSpreadElement(node)) report(node, "spread", "spread (...x) is not supported");
  else if (ts.isObjectBindingPattern(node) || ts.isArrayBindingPattern(node)) report(node, "destructuring", "destructuring is not supported");
  else if (ts.isForOfStatement(node)) report(node, "for-of", "for...of is banned: use an index loop");
  else if (ts.isYieldExpression(node)) report(node, "generator", "generators are not supported");
  else if (ts.isAwaitExpression(node)) report(node, "async", "await is not supported");
  else if (node.kind === ts.SyntaxKind.BigIntLiteral) report(node, "missing-global", "BigInt literals are not supported");
  else if (ts.isRegularExpressionLiteral(node)) checkRegex(node, report);
  else if (ts.isParameter(node)) {
    if (node.initializer) report(node, "default-param", "default parameters are not supported");
    if (node.dotDotDotToken) report(node, "rest-param", "rest parameters are not supported");
  } else if (ts.isPropertyDeclaration(node) && node.initializer) {
    report(node, "class-field-init", "class property initialisers are stored once on the prototype on Espruino: assign in the constructor");
  } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    (ts.isObjectLiteralExpression(node.left) || ts.isArrayLiteralExpression(node.left))) {
    report(node, "destructuring", "destructuring assignment is not supported");
  } else if (ts.isPropertyAccessExpression(node)) checkMember(node, sf, report);
  else if (ts.isIdentifier(node)) checkIdentifier(node, report, opts);
  else if (ts.isForStatement(node) || ts.isForInStatement(node)) checkLoopClosure(node, report);
  else if (ts.isExportDeclaration(node) || ts.isExportAssignment(node)) {
    if (opts.isEntry) report(node, "entry-export", "the entry must not export (module is undefined on Espruino)");
  }

  if (ts.isFunctionLike(node)) {
    if (hasModifier(node, ts.SyntaxKind.AsyncKeyword)) report(node, "async", "async functions are not supported");
    if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node)) && node.asteriskToken) {
      report(node, "generator", "generators are not supported");
    }
  }
  if ((ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node) || ts.isPropertyDeclaration(node)) &&
    ts.isIdentifier(node.name) && RESERVED.has(node.name.text)) {
    report(node, "reserved-method-name", "'" + node.name.text + "' is a reserved word: Espruino cannot parse it as a method name");
  }
  if (opts.isEntry && hasModifier(node, ts.SyntaxKind.ExportKeyword)) {
    report(node, "entry-export", "the entry must not export (module is undefined on Espruino)");
  }
  if (ts.isBlock(node) || ts.isSourceFile(node)) checkHoisting(node.statements, report);
}

function checkMember(node: ts.PropertyAccessExpression, sf: ts.SourceFile, report: Report): void {
  const name = node.name.text;
  if (ts.isIdentifier(node.expression) && MISSING_MEMBERS.has(node.expression.text + "." + name)) {
    report(node, "missing-api", node.expression.text + "." + name + " does not exist on Espruino");
  } else if (MISSING_METHODS.has(name) && ts.isCallExpression(node.parent) && node.parent.expression === node) {
    report(node, "missing-api", "." + name + "() does not exist on Espruino");
  }
  void sf;
}

/** True when the identifier is a reference (not a property name, key or member declaration name). */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if ((ts.isPropertyAccessExpression(p) && p.name === id) || (ts.isQualifiedName(p) && p.right === id)) return false;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessor(p) ||
    ts.isSetAccessor(p) || ts.isPropertySignature(p) || ts.isMethodSignature(p) || ts.isEnumMember(p)) && p.name === id) return false;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  return true;
}

function checkIdentifier(id: ts.Identifier, report: Report, opts: CheckOptions): void {
  if (!isReference(id)) return;
  const p = id.parent;
  const isDeclName = (ts.isVariableDeclaration(p) || ts.isFunctionDeclaration(p) || ts.isClassDeclaration(p) || ts.isParameter(p)) && p.name === id;
  if (MISSING_GLOBAL_NAMES.has(id.text) && !isDeclName) report(id, "missing-global", id.text + " does not exist on Espruino");
  if (!opts.mayUseEspruinoGlobals && ESPRUINO_GLOBAL_NAMES.has(id.text) && !isDeclName && !ts.isShorthandPropertyAssignment(p)) {
    report(id, "espruino-global", id.text + " is an Espruino global: only firmware/hal/espruino.ts and firmware/main.ts may name it (use the HAL)");
  }
}

/** RegExp features Espruino silently fails to match: `?`, `{n}`, group quantifiers, backreferences. */
function checkRegex(node: ts.RegularExpressionLiteral, report: Report): void {
  const text = node.text;
  const body = text.substring(1, text.lastIndexOf("/"));
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i);
    if (c === "\\") {
      const n = body.charAt(i + 1);
      if (!inClass && n >= "1" && n <= "9") return report(node, "regex", "regex backreferences are not supported: " + text);
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") inClass = true;
    else if (c === "?") return report(node, "regex", "regex '?' (optional, lazy or lookaround) silently fails on Espruino: " + text);
    else if (c === "{" && /[0-9]/.test(body.charAt(i + 1))) return report(node, "regex", "regex {n} quantifiers silently fail on Espruino: " + text);
    else if (c === ")" && "*+".indexOf(body.charAt(i + 1)) >= 0 && body.charAt(i + 1) !== "") {
      return report(node, "regex", "regex group quantifiers silently fail on Espruino: " + text);
    }
  }
}

/** Names a variable list or binding declares. */
function declaredNames(list: ts.ForInitializer | undefined): string[] {
  const names: string[] = [];
  if (!list || !ts.isVariableDeclarationList(list)) return names;
  const add = (b: ts.BindingName) => {
    if (ts.isIdentifier(b)) names.push(b.text);
    else b.elements.forEach((e) => { if (!ts.isOmittedExpression(e)) add(e.name); });
  };
  list.declarations.forEach((d) => add(d.name));
  return names;
}

/** A function created inside a loop that refers to the loop variable sees only its LAST value (Espruino #2206). */
function checkLoopClosure(loop: ts.ForStatement | ts.ForInStatement, report: Report): void {
  const names = declaredNames(loop.initializer);
  if (names.length === 0) return;
  const visitFn = (fn: ts.SignatureDeclaration, node: ts.Node): boolean => {
    if (ts.isIdentifier(node) && names.indexOf(node.text) >= 0 && isReference(node) && !shadows(fn, node.text)) return true;
    return !!ts.forEachChild(node, (c) => visitFn(fn, c) || undefined);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && visitFn(node, node)) {
      report(node, "loop-closure", "a function inside a for loop refers to loop variable(s) " + names.join(", ") + ": it would see only the last value; copy to a const in the body");
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(loop.statement);
}

/** Whether a function declares `name` as a parameter or top-level variable of its own. */
function shadows(fn: ts.SignatureDeclaration, name: string): boolean {
  for (let i = 0; i < fn.parameters.length; i++) {
    const p = fn.parameters[i].name;
    if (ts.isIdentifier(p) && p.text === name) return true;
  }
  const body = (fn as ts.FunctionLikeDeclaration).body;
  if (body && ts.isBlock(body)) {
    for (let i = 0; i < body.statements.length; i++) {
      const s = body.statements[i];
      if (ts.isVariableStatement(s) && declaredNames(s.declarationList).indexOf(name) >= 0) return true;
    }
  }
  return false;
}

/** Espruino does not hoist functions: code running in a block must not call a function declared later in it. */
function checkHoisting(statements: ts.NodeArray<ts.Statement>, report: Report): void {
  const later: { [name: string]: number } = {};
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i];
    if (ts.isFunctionDeclaration(s) && s.name) later[s.name.text] = i;
  }
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i];
    if (ts.isFunctionDeclaration(s)) continue;
    const scan = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) || ts.isClassLike(node)) return; // runs later, after the declarations
      if (ts.isIdentifier(node) && isReference(node) && later[node.text] !== undefined && later[node.text] > i) {
        report(node, "hoisting", node.text + " is called before its declaration (Espruino does not hoist functions)");
      }
      ts.forEachChild(node, scan);
    };
    scan(s);
  }
}

export function formatViolations(vs: Violation[]): string {
  return vs.map((v) => v.file + ":" + v.line + ": [" + v.rule + "] " + v.message).join("\n");
}
