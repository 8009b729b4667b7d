// The Java side of the code interpreter's Java kernel: one JShell (jdk.jshell API, code run in
// this JVM) driven over stdin/stdout by e2b_java_kernel.py, which speaks Jupyter.
//
// Protocol: one command per line on stdin, one event per line on stdout; every payload is
// base64 of UTF-8 text, so no line ever holds a raw newline.
//   in:  EXEC <code>          run a cell, snippet by snippet, stopping at the first error
//        STOP                 stop the running cell (JShell.stop)
//   out: READY                once JShell answers
//        OUT <text> / ERR <text>   what the cell printed
//        VALUE <text>         the value of the cell's last snippet, when it is an expression
//        ERROR <name> <value> <traceback>
//        DONE                 the cell is over
// The JVM ends when stdin closes (its Python kernel went away).
//
// Build: javac -d DIR E2BJShellKernel.java; run: java -cp DIR e2b.jshell.E2BJShellKernel
package e2b.jshell;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Collectors;

import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

public final class E2BJShellKernel {
    /** The imports jshell's DEFAULT startup gives, so cells read as they do in jshell. */
    private static final String DEFAULT_IMPORTS = String.join("\n",
        "import java.io.*;", "import java.math.*;", "import java.net.*;", "import java.nio.file.*;",
        "import java.util.*;", "import java.util.concurrent.*;", "import java.util.function.*;",
        "import java.util.prefs.*;", "import java.util.regex.*;", "import java.util.stream.*;");

    private static PrintStream protocol;

    /** Where a cell's last String value is put to be sent as it is (JShell would quote and escape it). */
    public static volatile Object lastValue;

    public static void main(String[] args) throws Exception {
        protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        // What the cells print goes to the protocol as OUT/ERR events, as soon as it is flushed.
        System.setOut(new PrintStream(new EventStream("OUT"), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new EventStream("ERR"), true, StandardCharsets.UTF_8));
        System.setIn(InputStream.nullInputStream());

        JShell shell = JShell.builder().executionEngine("local").build();
        // Cells see this class (lastValue) on the compiler's class path too.
        shell.addToClasspath(System.getProperty("java.class.path"));
        for (String snippet : DEFAULT_IMPORTS.split("\n")) shell.eval(snippet);
        // The first evaluation loads the compiler: pay for it before the first cell.
        shell.eval("int e2bWarmUp = String.valueOf(1 + 1).length();");
        shell.variables().filter(v -> v.name().equals("e2bWarmUp")).findFirst().ifPresent(shell::drop);

        LinkedBlockingQueue<String> cells = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> readCommands(shell, cells), "e2b-commands");
        reader.setDaemon(true);
        reader.start();
        emit("READY");
        while (true) {
            String code = cells.take();
            try {
                runCell(shell, code);
            } catch (Throwable t) {
                error(t.getClass().getName(), String.valueOf(t.getMessage()), stackTrace(t));
            }
            System.out.flush();
            System.err.flush();
            emit("DONE");
        }
    }

    private static void readCommands(JShell shell, LinkedBlockingQueue<String> cells) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new FileInputStream(FileDescriptor.in), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("STOP")) shell.stop();
                else if (line.startsWith("EXEC ")) cells.add(decode(line.substring(5)));
            }
        } catch (Exception ignored) {
            // stdin is gone either way
        }
        Runtime.getRuntime().halt(0);
    }

    /** Runs the cell's snippets in order; the value of the last one is the cell's result. */
    private static void runCell(JShell shell, String code) {
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        String remaining = code;
        int consumed = 0;
        String lastValue = null;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            String source;
            String rest;
            if (info.completeness() == SourceCodeAnalysis.Completeness.EMPTY) break;
            if (info.completeness().isComplete()) {
                source = info.source();
                rest = info.remaining();
            } else {
                // Incomplete: let JShell say what is wrong with it.
                source = remaining;
                rest = "";
            }
            int line = lineOf(code, consumed + leadingWhitespace(remaining));
            consumed += remaining.length() - rest.length();
            remaining = rest;
            lastValue = null;
            for (SnippetEvent event : shell.eval(source)) {
                if (event.causeSnippet() != null) continue;
                if (!report(shell, event, line)) return;
                if (isExpression(event.snippet()) && event.value() != null) lastValue = valueText(shell, event);
            }
        }
        System.out.flush();
        System.err.flush();
        if (lastValue != null) emit("VALUE " + encode(lastValue));
    }

    /** Reports a rejected snippet or a thrown exception; false when the cell must stop. */
    private static boolean report(JShell shell, SnippetEvent event, int line) {
        Snippet snippet = event.snippet();
        if (event.status() == Snippet.Status.REJECTED) {
            List<Diag> diags = shell.diagnostics(snippet).filter(Diag::isError).collect(Collectors.toList());
            String value = diags.stream().map(d -> d.getMessage(Locale.ROOT)).collect(Collectors.joining("\n"));
            StringBuilder traceback = new StringBuilder();
            for (Diag diag : diags) traceback.append(describe(snippet.source(), diag, line));
            if (diags.isEmpty()) value = "the snippet was rejected: " + snippet.source().strip();
            error("CompilationException", value, traceback.length() > 0 ? traceback.toString().stripTrailing() : value);
            return false;
        }
        if (event.status() == Snippet.Status.RECOVERABLE_DEFINED || event.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
            String missing = snippet instanceof DeclarationSnippet
                ? shell.unresolvedDependencies((DeclarationSnippet) snippet).collect(Collectors.joining(", ")) : "";
            System.err.println("note: the snippet at line " + line + " cannot be used until what it refers to is defined" + (missing.isEmpty() ? "" : ": " + missing));
        }
        JShellException thrown = event.exception();
        if (thrown != null) {
            String name = thrown instanceof EvalException ? ((EvalException) thrown).getExceptionClassName()
                : thrown instanceof UnresolvedReferenceException ? "UnresolvedReferenceException" : thrown.getClass().getName();
            String message = thrown.getMessage() == null ? "" : thrown.getMessage();
            error(name, message, stackTrace(name, message, thrown));
            return false;
        }
        return true;
    }

    /**
     * The text of an expression's value: JShell's rendering ("int[2] { 1, 2 }"), except that a
     * String is sent as it is, as IJava (E2B's Java kernel) shows it.
     */
    private static String valueText(JShell shell, SnippetEvent event) {
        Snippet snippet = event.snippet();
        String type = snippet instanceof VarSnippet ? ((VarSnippet) snippet).typeName()
            : snippet instanceof ExpressionSnippet ? ((ExpressionSnippet) snippet).typeName() : "";
        String name = snippet instanceof VarSnippet ? ((VarSnippet) snippet).name()
            : snippet instanceof ExpressionSnippet ? ((ExpressionSnippet) snippet).name() : "";
        if (!type.equals("String") && !type.equals("java.lang.String")) return event.value();
        try {
            shell.eval("e2b.jshell.E2BJShellKernel.lastValue = " + name + ";");
            Object value = lastValue;
            return value == null ? "null" : value.toString();
        } finally {
            lastValue = null;
        }
    }

    private static boolean isExpression(Snippet snippet) {
        if (snippet.kind() == Snippet.Kind.EXPRESSION) return true;
        return snippet instanceof VarSnippet && snippet.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND;
    }

    /** "line N: message", the source line and a caret under the error, as javac prints it. */
    private static String describe(String source, Diag diag, int firstLine) {
        int at = (int) Math.max(0, Math.min(source.length(), diag.getStartPosition()));
        int lineStart = source.lastIndexOf('\n', at - 1) + 1;
        int lineEnd = source.indexOf('\n', at);
        if (lineEnd < 0) lineEnd = source.length();
        // firstLine is the line of the snippet's first non-blank character.
        int skip = Math.min(leadingWhitespace(source), lineStart);
        int line = firstLine + (int) source.substring(skip, lineStart).chars().filter(c -> c == '\n').count();
        return "line " + line + ": " + diag.getMessage(Locale.ROOT) + "\n"
            + source.substring(lineStart, lineEnd) + "\n" + " ".repeat(at - lineStart) + "^\n";
    }

    private static String stackTrace(String name, String message, Throwable thrown) {
        StringBuilder out = new StringBuilder(name).append(message.isEmpty() ? "" : ": " + message);
        for (StackTraceElement frame : thrown.getStackTrace()) out.append("\n\tat ").append(frame);
        Throwable cause = thrown.getCause();
        while (cause != null) {
            String causeName = cause instanceof EvalException ? ((EvalException) cause).getExceptionClassName() : cause.getClass().getName();
            out.append("\nCaused by: ").append(causeName).append(cause.getMessage() == null ? "" : ": " + cause.getMessage());
            for (StackTraceElement frame : cause.getStackTrace()) out.append("\n\tat ").append(frame);
            cause = cause.getCause();
        }
        return out.toString();
    }

    private static String stackTrace(Throwable thrown) {
        return stackTrace(thrown.getClass().getName(), String.valueOf(thrown.getMessage()), thrown);
    }

    private static int lineOf(String text, int offset) {
        int line = 1;
        for (int i = 0; i < Math.min(offset, text.length()); i++) if (text.charAt(i) == '\n') line++;
        return line;
    }

    private static int leadingWhitespace(String text) {
        int i = 0;
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) i++;
        return i;
    }

    private static void error(String name, String value, String traceback) {
        System.out.flush();
        System.err.flush();
        emit("ERROR " + encode(name) + " " + encode(value) + " " + encode(traceback));
    }

    private static synchronized void emit(String line) {
        protocol.print(line + "\n");
        protocol.flush();
    }

    private static String encode(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String text) {
        return new String(Base64.getDecoder().decode(text.trim()), StandardCharsets.UTF_8);
    }

    /** Bytes printed by the cells, sent as events on flush; a split UTF-8 character waits for its end. */
    private static final class EventStream extends OutputStream {
        private final String kind;
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

        EventStream(String kind) { this.kind = kind; }

        @Override public synchronized void write(int b) { pending.write(b); }

        @Override public synchronized void write(byte[] bytes, int off, int len) { pending.write(bytes, off, len); }

        @Override public synchronized void flush() {
            byte[] bytes = pending.toByteArray();
            int complete = completeLength(bytes);
            if (complete == 0) return;
            pending.reset();
            pending.write(bytes, complete, bytes.length - complete);
            emit(kind + " " + Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(bytes, complete)));
        }

        /** How many leading bytes end on a character boundary. */
        private static int completeLength(byte[] bytes) {
            int n = bytes.length;
            for (int back = 1; back <= Math.min(3, n); back++) {
                int b = bytes[n - back] & 0xff;
                if ((b & 0xc0) == 0x80) continue; // continuation byte
                int needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
                return needed > back ? n - back : n;
            }
            return n;
        }
    }
}
