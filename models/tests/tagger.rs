mod common;

#[test]
fn tags_of_real_photos_match_the_pack_readme() {
    let Some(pack) = common::pack() else { return };
    let mut tagger = vx_models::Tagger::load(&common::runtime(), &pack).unwrap();
    let cat = common::png("chelsea.png");
    let coffee = common::png("coffee.png");
    let tags = tagger.tag(&[cat.view(), coffee.view()], 5, 0.0).unwrap();
    // README: chelsea 285 Egyptian cat 0.791; coffee 967 espresso 0.899 (squash resize).
    assert_eq!(tags[0][0].class, 285, "{:?}", tags[0]);
    assert!((tags[0][0].score - 0.791).abs() < 0.05, "{:?}", tags[0][0]);
    let cat_classes: Vec<usize> = tags[0].iter().map(|t| t.class).collect();
    assert!(
        cat_classes.contains(&282) && cat_classes.contains(&281),
        "{cat_classes:?}"
    );
    assert_eq!(tags[1][0].class, 967);
    // WordNet's broader names come with each tag: an espresso is coffee and a beverage.
    for broader in ["coffee", "beverage"] {
        assert!(
            tags[1][0].hypernyms.iter().any(|h| h == broader),
            "{:?}",
            tags[1][0]
        );
    }
    assert!(
        tags[0][0].hypernyms.iter().any(|h| h == "cat"),
        "{:?}",
        tags[0][0]
    );
    assert!((tags[1][0].score - 0.899).abs() < 0.05, "{:?}", tags[1][0]);
    // Batch of one gives the same answer as in a batch.
    let alone = tagger.tag(&[coffee.view()], 1, 0.0).unwrap();
    assert!((alone[0][0].score - tags[1][0].score).abs() < 1e-4);
    // Thresholds apply; tiny images work.
    assert!(tagger.tag(&[cat.view()], 5, 0.5).unwrap()[0].len() == 1);
    let one = vx_models::RgbImage {
        width: 1,
        height: 1,
        data: vec![10, 200, 30],
    };
    assert_eq!(tagger.tag(&[one.view()], 3, 0.0).unwrap()[0].len(), 3);
}
