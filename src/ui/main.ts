// The dashboard grows with the node (issues 3 and 4); for now it says what this is.
const app = document.querySelector('psiweb-app');
if (app) {
  app.innerHTML = `<h1>psiweb</h1><p>A browser-native psibase node. The in-page node arrives with the browser-node work.</p>`;
}
