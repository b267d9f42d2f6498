"""jupyter_kernel_test, Jupyter's own conformance suite for kernels, with every kind of sample it
takes: hello world, stderr, completions, is_complete (complete, incomplete, invalid), the pager,
an error, execute results, display data, history (tail, range, search with a glob, `unique`,
`n`), inspection and clear_output. Every message it reads is checked against its schemas."""

import jupyter_kernel_test as jkt


class RustZarrKernelTests(jkt.KernelTests):
    kernel_name = "rust-zarr"
    language_name = "rust"
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("to stderr");'
    completion_samples = [{"text": "std::collections::BTreeM", "matches": {"BTreeMap"}}]
    complete_code_samples = ["let x = 1;", "fn f() -> i32 { 1 }", "1 + 1"]
    incomplete_code_samples = ["fn f() {", 'let s = "open', "let v = vec![\n1,"]
    invalid_code_samples = ["}", "let x = (1, 2));"]
    code_page_something = 'page("a page for Jupyter\'s pager");'
    code_generate_error = 'let n: i32 = "x".parse()?;'
    code_execute_result = [
        {"code": "1 + 1", "result": "2"},
        {"code": '"text".to_string()', "result": '"text"'},
        {"code": "vec![1, 2, 3]", "result": "[1, 2, 3]"},
    ]
    code_display_data = [
        {"code": 'display(&Html("<b>bold</b>".into()));', "mime": "text/html"},
        {"code": 'display("plain");', "mime": "text/plain"},
    ]
    code_history_pattern = "vec!*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "Vec::new"
    code_clear_output = 'println!("soon gone"); clear_output(false);'
