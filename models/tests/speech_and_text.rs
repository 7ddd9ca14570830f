mod common;

use vx_models::int8_matmul::Int8Form;
use vx_models::transcriber::word_error_rate;
use vx_models::{TextEmbedder, Transcriber, dot};

#[test]
fn minilm_matches_the_reference_tokens_and_similarities() {
    let Some(pack) = common::pack() else { return };
    let mut emb = TextEmbedder::load(&common::runtime(), &pack).unwrap();
    // README: "A man is eating food." -> 101, 1037, 2158, 2003, 5983, 2833, 1012, 102.
    let ids = emb.token_ids("A man is eating food.").unwrap();
    assert_eq!(&ids[..8], &[101, 1037, 2158, 2003, 5983, 2833, 1012, 102]);
    let v = emb
        .embed(&[
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "A man is riding a horse.",
        ])
        .unwrap();
    assert_eq!(v[0].len(), 384);
    // README: embedding starts 0.0310, 0.0090, -0.0037, 0.0483, -0.1397; cosines 0.7514 and 0.2519.
    // Those came from ONNX Runtime's int8 kernels; vx expands the int8 weights at load and
    // multiplies in float (models/src/runtime.rs), which ONNX Runtime's Python API also gives
    // with session.disable_quant_qdq: 0.0307, 0.0067, -0.0040, 0.0472, -0.1397, cosines 0.7535
    // and 0.2525 (the fp32 graph's: 0.7553 and 0.2474).
    for (got, want) in v[0].iter().zip([0.0307, 0.0067, -0.0040, 0.0472, -0.1397]) {
        assert!((got - want).abs() < 0.001, "{:?}", &v[0][..5]);
    }
    assert!((dot(&v[0], &v[1]) - 0.7514).abs() < 0.01);
    assert!((dot(&v[0], &v[2]) - 0.2519).abs() < 0.01);
    // Padding to the batch's longest does not change a short sentence's embedding.
    let alone = emb.embed(&["A man is eating food."]).unwrap();
    assert!(dot(&alone[0], &v[0]) > 0.9999);
    assert!(emb.embed(&[]).unwrap().is_empty());
    assert_eq!(emb.embed(&[""]).unwrap()[0].len(), 384);
}

/// Queries are embedded with int8 products (`TextEmbedder::load_for_queries`), stored texts
/// in float: the two must agree closely enough that a query still finds the same texts.
#[test]
fn int8_query_embeddings_find_what_the_float_ones_find() {
    let Some(pack) = common::pack() else { return };
    let mut float = TextEmbedder::load(&common::runtime(), &pack).unwrap();
    let mut int8 = TextEmbedder::load_for_queries(&common::runtime(), &pack).unwrap();
    // Every weight product of the 6 layers (query, key, value, attention out, the two
    // feed-forward ones), 36 in all, in either form.
    let model = std::fs::read(pack.join("text/minilm-l6-v2.onnx")).unwrap();
    for form in [Int8Form::Signed, Int8Form::Unsigned] {
        let (_, n) = vx_models::int8_matmul::int8_matmuls(&model, form, |_| false).unwrap();
        assert_eq!(n, 36, "{form:?}");
    }
    let stored = [
        "A man is eating a piece of bread.",
        "A man is riding a horse.",
        "two white dogs lying on the grass",
        "people drinking wine in a pub",
        "the birch canoe slid on the smooth planks",
        "countdown: three, two, one, lift off",
        "a terminal window on a computer screen",
        "fireworks over the harbour at night",
    ];
    let docs = float.embed(&stored).unwrap();
    let queries = [
        "A man is eating food.",
        "someone on horseback",
        "dogs on a lawn",
        "a glass of red wine",
        "boat",
        "rocket launch",
        "computer",
        "new year's eve",
        "x",
    ];
    for q in queries {
        let (a, b) = (float.embed(&[q]).unwrap(), int8.embed(&[q]).unwrap());
        assert!(
            dot(&a[0], &b[0]) > 0.97,
            "{q}: cosine {}",
            dot(&a[0], &b[0])
        );
        let nearest = |v: &[f32]| {
            let scores: Vec<f32> = docs.iter().map(|d| dot(v, d)).collect();
            (0..docs.len())
                .max_by(|&i, &j| scores[i].total_cmp(&scores[j]))
                .unwrap()
        };
        assert_eq!(nearest(&a[0]), nearest(&b[0]), "{q}");
    }
}

#[test]
fn whisper_transcribes_the_speech_clips() {
    let Some(pack) = common::pack() else { return };
    let t = Transcriber::load(&pack, 2).unwrap();
    for clip in ["librivox-0870", "librivox-0880"] {
        let pcm = common::wav(&format!("{clip}.wav"));
        let reference = std::fs::read_to_string(common::media(&format!("{clip}.txt"))).unwrap();
        let segs = t.transcribe(&pcm, 16_000).unwrap();
        assert!(!segs.is_empty());
        let text: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        let wer = word_error_rate(&reference, &text.join(" "));
        eprintln!("{clip}: WER {wer:.3}: {text:?}");
        assert!(
            segs[0].start < 0.5 && segs.last().unwrap().end <= pcm.len() as f64 / 16000.0 + 0.5
        );
        if clip == "librivox-0870" {
            // The 10 % target; the 3 s clip's "ill disposed" is a known miss of tiny.en (README).
            assert!(wer <= 0.10, "WER {wer}");
        } else {
            assert!(wer <= 0.35, "WER {wer}");
        }
    }
    // Silence gives nothing; 8 kHz audio is refused clearly.
    assert!(t.transcribe(&vec![0.0; 32_000], 16_000).unwrap().is_empty());
    let err = t
        .transcribe(&vec![0.1; 8_000], 8_000)
        .unwrap_err()
        .to_string();
    assert!(err.contains("16000 Hz"), "{err}");
}
