/// The console's swift-mustache templates and stylesheet, as Swift constants (nothing to install or build;
/// `{{x}}` escapes HTML, `{{{x}}}` is only used for SVG and page bodies that Brixia rendered itself).
enum Templates {
    static let layout = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · Brixia console</title>
    <link rel="stylesheet" href="/static/console.css">
    </head>
    <body>
    <header>
    <span class="brand">Brixia</span>
    {{#user}}
    <nav>
    <a href="/">Worklist</a>
    <a href="/failures">Failures</a>
    <a href="/quarantine">Quarantine</a>
    <a href="/outgoing">Outgoing</a>
    </nav>
    <form class="logout" method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><span class="who" id="who">{{name}} ({{role}})</span> <button type="submit">Sign out</button></form>
    {{/user}}
    </header>
    <p class="disclaimer" id="disclaimer">{{disclaimer}}</p>
    <main>
    <h1>{{title}}</h1>
    {{#flash}}<p class="flash" id="flash">{{flash}}</p>{{/flash}}
    {{{body}}}
    </main>
    <footer>{{disclaimer}}. Brixia score by BS-Net; every number on this page comes from a model.</footer>
    </body>
    </html>
    """

    static let login = """
    <form method="post" action="/login" class="login" id="login-form">
    {{#error}}<p class="error" id="login-error">{{error}}</p>{{/error}}
    <label for="username">User</label>
    <input id="username" name="username" autocomplete="username" required autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <input type="hidden" name="next" value="{{next}}">
    <button type="submit" id="login-submit">Sign in</button>
    </form>
    """

    static let worklist = """
    <form method="get" action="/" class="filters">
    <label>Status <select name="status">
    <option value="">any</option>
    {{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/states}}
    </select></label>
    <label>Patient <input name="patient" value="{{patient}}"></label>
    <label>Date <input name="date" value="{{date}}" placeholder="YYYY-MM-DD"></label>
    <label><input type="checkbox" name="alert" value="1"{{#alertOnly}} checked{{/alertOnly}}> alerts only</label>
    <button type="submit">Filter</button>
    </form>
    <p class="count" id="count">{{count}} studies</p>
    <table id="worklist">
    <thead><tr><th>Date</th><th>Patient</th><th>Study</th><th>Status</th><th>Global</th><th>Alert</th><th>QC</th></tr></thead>
    <tbody>
    {{#studies}}
    <tr class="study state-{{state}}{{#alert}} has-alert{{/alert}}">
    <td>{{date}}</td>
    <td><a href="/patients/{{patientPath}}">{{patientID}}</a></td>
    <td><a href="/studies/{{uidPath}}" title="{{uid}}">{{reference}}</a></td>
    <td><span class="state">{{state}}</span></td>
    <td class="score">{{global}}</td>
    <td>{{#alert}}<span class="alert">ALERT</span>{{/alert}}</td>
    <td>{{eligible}}/{{instances}} eligible</td>
    </tr>
    {{/studies}}
    </tbody>
    </table>
    """

    static let patient = """
    <section class="chart" id="trend-chart">{{{chart}}}</section>
    <p class="legend">Grades: <span class="g0">0 none</span> <span class="g1">1 interstitial</span> <span class="g2">2 interstitial + alveolar, interstitial dominant</span> <span class="g3">3 alveolar dominant</span>. Red ring: alert fired.</p>
    <h2>Exams</h2>
    {{#exams}}
    <article class="exam" id="exam-{{index}}">
    <h3><a href="/studies/{{uidPath}}">{{date}}</a> — global {{global}}{{#delta}} ({{delta}}){{/delta}} · {{trend}}{{#amended}} · <span class="amended">amended (v{{version}})</span>{{/amended}}</h3>
    {{#alerts}}<p class="alert">ALERT: {{message}}</p>{{/alerts}}
    <div class="exam-figures">{{{zones}}}{{#report}}<img class="report" src="/studies/{{uidPath}}/report.png" alt="Rendered report page (AI-generated) for the exam of {{date}}">{{/report}}</div>
    </article>
    {{/exams}}
    {{^exams}}<p>No scored exam for this patient.</p>{{/exams}}
    """

    static let study = """
    <dl class="facts">
    <dt>Patient</dt><dd><a href="/patients/{{patientPath}}">{{patientID}}</a></dd>
    <dt>Study UID</dt><dd class="uid">{{uid}}</dd>
    <dt>Date</dt><dd>{{date}}</dd>
    <dt>Status</dt><dd id="study-state">{{state}}{{#lastError}} — {{lastError}}{{/lastError}}</dd>
    <dt>QC</dt><dd>{{eligible}}/{{instances}} images eligible{{#ineligible}}<br>{{sop}}: {{reason}}{{/ineligible}}</dd>
    </dl>
    {{#operator}}
    <div class="actions">
    {{#failed}}<form method="post" action="/studies/{{uidPath}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="retry">Retry study</button></form>{{/failed}}
    {{#hasOutputs}}<form method="post" action="/studies/{{uidPath}}/resend"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="resend">Resend report</button></form>{{/hasOutputs}}
    </div>
    {{/operator}}
    {{#analyses}}
    <article class="analysis">
    <h2>Analysis v{{version}} — global {{global}}{{#amended}} <span class="amended">amended</span>{{/amended}}</h2>
    <p>Model {{model}} {{modelVersion}}{{#confidence}} · confidence {{confidence}}{{/confidence}} · {{created}}</p>
    {{#alerts}}<p class="alert">ALERT: {{message}}</p>{{/alerts}}
    <div class="exam-figures">{{{zones}}}{{#report}}<img class="report" src="/studies/{{uidPath}}/report.png" alt="Rendered report page (AI-generated)">{{/report}}</div>
    <h3>Outputs</h3>
    <ul>{{#outputs}}<li>{{kind}} {{sop}}</li>{{/outputs}}</ul>
    </article>
    {{/analyses}}
    <h2>Delivery</h2>
    <table id="delivery"><thead><tr><th>Destination</th><th>Report</th><th>State</th><th>Attempts</th><th>Last error</th></tr></thead><tbody>
    {{#delivery}}<tr><td>{{destination}}</td><td class="uid">{{sop}}</td><td>{{state}}</td><td>{{attempts}}</td><td>{{lastError}}</td></tr>{{/delivery}}
    </tbody></table>
    {{^delivery}}<p>Not queued for any PACS.</p>{{/delivery}}
    <h2>History</h2>
    <table><tbody>{{#history}}<tr><td>{{at}}</td><td>{{kind}}</td><td>{{message}}</td></tr>{{/history}}</tbody></table>
    """

    static let quarantine = """
    <p id="quarantine-total">{{total}} files quarantined in all (the most recent below). Each file is in the quarantine folder with a .reason.txt.</p>
    <table id="quarantine"><thead><tr><th>When</th><th>File</th><th>Reason</th></tr></thead><tbody>
    {{#files}}<tr><td>{{at}}</td><td>{{file}}</td><td>{{reason}}</td></tr>{{/files}}
    </tbody></table>
    <h2>Quarantined studies</h2>
    <table id="quarantined-studies"><thead><tr><th>Study</th><th>Reason</th><th>When</th></tr></thead><tbody>
    {{#studies}}<tr><td><a href="/studies/{{uidPath}}">{{uid}}</a></td><td>{{reason}}</td><td>{{at}}</td></tr>{{/studies}}
    </tbody></table>
    {{^studies}}<p>No quarantined study.</p>{{/studies}}
    """

    static let failures = """
    <table id="failures"><thead><tr><th>Study</th><th>Kind</th><th>Attempts</th><th>Reason</th><th>When</th><th></th></tr></thead><tbody>
    {{#failures}}<tr><td><a href="/studies/{{uidPath}}">{{uid}}</a></td><td>{{kind}}</td><td>{{attempts}}</td><td>{{reason}}</td><td>{{at}}</td>
    <td>{{#operator}}<form method="post" action="/studies/{{uidPath}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Retry</button></form>{{/operator}}</td></tr>{{/failures}}
    </tbody></table>
    {{^failures}}<p>No failed study.</p>{{/failures}}
    """

    static let outgoing = """
    <table id="outgoing"><thead><tr><th>Destination</th><th>Pending</th><th>Sent</th><th>Failed</th><th>Next attempt</th><th>Last error</th></tr></thead><tbody>
    {{#destinations}}<tr><td>{{destination}}</td><td>{{pending}}</td><td>{{sent}}</td><td>{{failed}}</td><td>{{next}}</td><td>{{lastError}}</td></tr>{{/destinations}}
    </tbody></table>
    {{^destinations}}<p>No PACS destination has anything queued (none configured, or nothing sent yet).</p>{{/destinations}}
    <h2>Waiting or failed</h2>
    <table id="outgoing-items"><thead><tr><th>Destination</th><th>Report</th><th>State</th><th>Attempts</th><th>Last error</th></tr></thead><tbody>
    {{#items}}<tr><td>{{destination}}</td><td class="uid">{{sop}}</td><td>{{state}}</td><td>{{attempts}}</td><td>{{lastError}}</td></tr>{{/items}}
    </tbody></table>
    """

    static let message = "<p id=\"message\">{{message}}</p>"

    /// Large type, dark background, high contrast: readable from a reading-room chair.
    static let css = """
    :root { color-scheme: dark; }
    body { margin: 0; background: #0d0d0d; color: #e8e8e8; font: 20px/1.45 "DejaVu Sans", system-ui, sans-serif; }
    header { display: flex; align-items: center; gap: 1.5em; padding: .6em 1em; background: #1a1a1a; border-bottom: 2px solid #333; flex-wrap: wrap; }
    .brand { font-size: 1.4em; font-weight: bold; color: #90caf9; }
    nav a { margin-right: 1.1em; color: #e8e8e8; font-weight: bold; }
    .logout { margin-left: auto; }
    .disclaimer { margin: 0; padding: .5em 1em; background: #4a2b00; color: #ffd180; font-weight: bold; border-bottom: 2px solid #ff9800; }
    main { padding: 1em 1.5em 3em; }
    h1 { font-size: 1.6em; margin: .3em 0 .6em; }
    a { color: #90caf9; }
    table { border-collapse: collapse; width: 100%; margin: .6em 0 1.2em; }
    th, td { text-align: left; padding: .45em .7em; border-bottom: 1px solid #333; vertical-align: top; }
    th { background: #1e1e1e; }
    tr.has-alert td { background: #3a1010; }
    .alert { color: #ff8a80; font-weight: bold; }
    .amended { color: #ffb74d; font-weight: bold; }
    .score { font-size: 1.3em; font-weight: bold; }
    .uid { font-family: "DejaVu Sans Mono", monospace; font-size: .8em; word-break: break-all; }
    .error { color: #ff8a80; font-weight: bold; }
    .flash { background: #0d3320; padding: .5em; }
    input, select, button { font: inherit; padding: .3em .5em; background: #222; color: #eee; border: 1px solid #555; }
    button { background: #1565c0; border-color: #1e88e5; cursor: pointer; }
    .login { display: grid; gap: .5em; max-width: 24em; }
    .filters { display: flex; gap: 1em; flex-wrap: wrap; align-items: end; }
    .exam-figures { display: flex; gap: 1.5em; flex-wrap: wrap; align-items: flex-start; }
    img.report { max-width: 100%; height: auto; border: 1px solid #444; }
    .chart svg { width: 100%; max-width: 820px; height: auto; }
    dl.facts { display: grid; grid-template-columns: max-content auto; gap: .3em 1.2em; }
    dt { color: #aaa; }
    .legend span { padding: 0 .4em; margin-right: .4em; }
    .g0 { background: #2e7d32; } .g1 { background: #f9a825; color: #000; } .g2 { background: #ef6c00; } .g3 { background: #c62828; }
    footer { padding: 1em 1.5em; color: #bbb; border-top: 1px solid #333; }
    """
}
