#!/usr/bin/env python3
"""Writes imagenet_table.go: ImageNet class (first name, as the captioner
reports it) -> the COCO category or coarse kind it supports.

Run from the repository root: python3 captioner/ground/gen_imagenet.py
The ranges are ILSVRC-2012 class indices (0-based, without background).
"""
import sys

names = [l.split(',')[0].strip() for l in open('models/imagenet_labels.txt')][1:]

ranges = [  # (first, last, category)
    (0, 6, 'fish'), (7, 24, 'bird'), (80, 100, 'bird'), (127, 146, 'bird'),
    (25, 32, 'frog'), (33, 37, 'turtle'), (38, 48, 'lizard'), (49, 50, 'crocodile'),
    (52, 68, 'snake'), (70, 79, 'spider'), (118, 126, 'crab'), (147, 148, 'whale'),
    (149, 150, 'seal'), (151, 268, 'dog'), (269, 272, 'wolf'), (273, 275, 'dog'),
    (276, 276, 'hyena'), (277, 280, 'fox'), (281, 285, 'cat'), (286, 293, 'big cat'),
    (294, 297, 'bear'), (298, 299, 'mongoose'), (300, 320, 'insect'), (321, 326, 'butterfly'),
    (330, 332, 'rabbit'), (333, 338, 'rodent'), (339, 339, 'horse'), (340, 340, 'zebra'),
    (341, 343, 'pig'), (344, 344, 'hippopotamus'), (345, 347, 'cow'), (348, 350, 'sheep'),
    (351, 353, 'antelope'), (354, 354, 'camel'), (355, 355, 'llama'), (356, 362, 'weasel'),
    (365, 384, 'monkey'), (385, 386, 'elephant'), (101, 101, 'elephant'), (387, 388, 'panda'),
    (389, 397, 'fish'),
]
named = {
    # vehicles
    'airliner': 'airplane', 'warplane': 'airplane', 'airship': 'airship',
    'ambulance': 'car', 'beach wagon': 'car', 'cab': 'car', 'convertible': 'car', 'jeep': 'car',
    'limousine': 'car', 'minivan': 'car', 'Model T': 'car', 'racer': 'car', 'sports car': 'car',
    'police van': 'car', 'car wheel': 'car', 'grille': 'car',
    'moving van': 'truck', 'pickup': 'truck', 'tow truck': 'truck', 'trailer truck': 'truck',
    'garbage truck': 'truck', 'fire engine': 'truck', 'tractor': 'tractor',
    'school bus': 'bus', 'trolleybus': 'bus', 'minibus': 'bus',
    'mountain bike': 'bicycle', 'bicycle-built-for-two': 'bicycle', 'tricycle': 'tricycle',
    'unicycle': 'unicycle', 'moped': 'motorcycle', 'motor scooter': 'motorcycle',
    'canoe': 'boat', 'speedboat': 'boat', 'lifeboat': 'boat', 'fireboat': 'boat', 'gondola': 'boat',
    'container ship': 'boat', 'liner': 'boat', 'schooner': 'boat', 'catamaran': 'boat',
    'trimaran': 'boat', 'yawl': 'boat', 'pirate': 'boat', 'aircraft carrier': 'boat',
    'submarine': 'boat',
    'steam locomotive': 'train', 'electric locomotive': 'train', 'passenger car': 'train',
    'freight car': 'train', 'streetcar': 'train', 'bullet train': 'train',
    # food
    'banana': 'banana', 'orange': 'orange', 'broccoli': 'broccoli', 'pizza': 'pizza',
    'hotdog': 'hot dog', 'Granny Smith': 'apple', 'cheeseburger': 'sandwich', 'bagel': 'bagel',
    'plate': 'plate', 'guacamole': 'food', 'consomme': 'soup', 'hot pot': 'food', 'trifle': 'dessert',
    'ice cream': 'ice cream', 'ice lolly': 'ice cream', 'French loaf': 'bread', 'pretzel': 'pretzel',
    'mashed potato': 'food', 'head cabbage': 'cabbage', 'cauliflower': 'cauliflower',
    'zucchini': 'vegetable', 'spaghetti squash': 'vegetable', 'acorn squash': 'vegetable',
    'butternut squash': 'vegetable', 'cucumber': 'cucumber', 'artichoke': 'vegetable',
    'bell pepper': 'pepper', 'cardoon': 'vegetable', 'mushroom': 'mushroom',
    'strawberry': 'strawberry', 'lemon': 'lemon', 'fig': 'fruit', 'pineapple': 'pineapple',
    'jackfruit': 'fruit', 'custard apple': 'fruit', 'pomegranate': 'fruit', 'carbonara': 'pasta',
    'chocolate sauce': 'dessert', 'dough': 'food', 'meat loaf': 'food', 'potpie': 'food',
    'burrito': 'burrito', 'espresso': 'coffee', 'eggnog': 'drink', 'red wine': 'wine glass',
    'corn': 'corn', 'ear': 'corn',
    # things
    'laptop': 'laptop', 'notebook': 'laptop', 'desktop computer': 'tv', 'monitor': 'tv',
    'screen': 'tv', 'television': 'tv', 'home theater': 'tv', 'cellular telephone': 'cell phone',
    'iPod': 'cell phone', 'computer keyboard': 'keyboard', 'typewriter keyboard': 'keyboard',
    'mouse': 'mouse', 'remote control': 'remote', 'microwave': 'microwave', 'refrigerator': 'refrigerator',
    'toaster': 'toaster', 'dining table': 'dining table', 'studio couch': 'couch', 'four-poster': 'bed',
    'quilt': 'bed', 'toilet seat': 'toilet', 'umbrella': 'umbrella', 'backpack': 'backpack',
    'purse': 'handbag', 'Windsor tie': 'tie', 'bow tie': 'tie', 'ski': 'skis',
    'tennis ball': 'sports ball', 'soccer ball': 'sports ball', 'basketball': 'sports ball',
    'baseball': 'sports ball', 'volleyball': 'sports ball', 'rugby ball': 'sports ball',
    'golf ball': 'sports ball', 'croquet ball': 'sports ball', 'ping-pong ball': 'sports ball',
    'football helmet': 'helmet', 'crash helmet': 'helmet',
    'wine bottle': 'bottle', 'beer bottle': 'bottle', 'pop bottle': 'bottle', 'water bottle': 'bottle',
    'beer glass': 'wine glass', 'goblet': 'wine glass', 'cup': 'cup', 'coffee mug': 'cup',
    'wooden spoon': 'spoon', 'soup bowl': 'bowl', 'mixing bowl': 'bowl', 'park bench': 'bench',
    'rocking chair': 'chair', 'folding chair': 'chair', 'barber chair': 'chair', 'throne': 'chair',
    'pot': 'potted plant', 'vase': 'vase', 'wall clock': 'clock', 'analog clock': 'clock',
    'digital clock': 'clock', 'book jacket': 'book', 'bookcase': 'book', 'teddy': 'teddy bear',
    'traffic light': 'traffic light', 'parking meter': 'parking meter', 'street sign': 'sign',
    'teapot': 'teapot', 'washbasin': 'sink', 'tub': 'bathtub', 'bathtub': 'bathtub',
    'stove': 'oven', 'Dutch oven': 'pot', 'frying pan': 'pan', 'wok': 'pan', 'dishwasher': 'dishwasher',
    'sunglasses': 'sunglasses', 'sunglass': 'sunglasses', 'kite': 'bird', 'ladle': 'spoon',
    # animals the coarse ranges above would misname (a bison is no cow, a
    # gorilla no monkey), and the marsupials they leave out
    'bison': 'bison', 'water buffalo': 'buffalo', 'ibex': 'goat', 'meerkat': 'meerkat',
    'hamster': 'hamster', 'porcupine': 'porcupine', 'fox squirrel': 'squirrel', 'marmot': 'marmot',
    'beaver': 'beaver', 'guinea pig': 'guinea pig', 'orangutan': 'ape', 'gorilla': 'ape',
    'chimpanzee': 'ape', 'gibbon': 'ape', 'siamang': 'ape', 'Madagascar cat': 'lemur', 'indri': 'lemur',
    'wallaby': 'kangaroo', 'koala': 'koala', 'wombat': 'wombat', 'echidna': 'echidna',
    'platypus': 'platypus', 'jellyfish': 'jellyfish', 'snail': 'snail',
    # people (ImageNet has few person classes)
    'ballplayer': 'person', 'groom': 'person', 'scuba diver': 'person',
    # scenes
    'alp': 'mountain', 'cliff': 'cliff', 'coral reef': 'reef', 'geyser': 'geyser',
    'lakeside': 'lake', 'promontory': 'coast', 'sandbar': 'beach', 'seashore': 'beach',
    'valley': 'valley', 'volcano': 'mountain', 'boathouse': 'lake', 'dock': 'dock',
    'breakwater': 'coast', 'pier': 'pier', 'fountain': 'fountain', 'stage': 'stage',
    'library': 'library', 'restaurant': 'restaurant', 'grocery store': 'store', 'shoe shop': 'store',
    'toyshop': 'store', 'bakery': 'store', 'butcher shop': 'store', 'confectionery': 'store',
    'barbershop': 'store', 'bookshop': 'store', 'tobacco shop': 'store', 'cinema': 'building',
    'church': 'church', 'mosque': 'building', 'palace': 'building', 'monastery': 'building',
    'castle': 'building', 'planetarium': 'building', 'dome': 'building', 'triumphal arch': 'monument',
    'obelisk': 'monument', 'steel arch bridge': 'bridge', 'suspension bridge': 'bridge',
    'viaduct': 'bridge', 'worm fence': 'fence', 'picket fence': 'fence', 'chainlink fence': 'fence',
    'stone wall': 'wall', 'patio': 'patio', 'greenhouse': 'greenhouse', 'daisy': 'flower',
    'rapeseed': 'flower', "yellow lady's slipper": 'flower', 'pot': 'potted plant', 'hay': 'hay',
    # buildings ImageNet names by use: the photo shows a building, the use is a guess
    # (office blocks come out as "prison")
    'prison': 'building', 'barn': 'building', 'thatch': 'building', 'tile roof': 'building',
    'bell cote': 'church', 'altar': 'church', 'stupa': 'monument',
}
kind = {}
for a, b, c in ranges:
    for i in range(a, b + 1):
        kind[names[i]] = c
for n, c in named.items():
    if n not in names:
        sys.exit(f'unknown ImageNet name {n!r}')
    kind[n] = c
with open('captioner/ground/imagenet_table.go', 'w') as f:  # then: gofmt -w
    f.write('// Code generated by gen_imagenet.py from models/imagenet_labels.txt; DO NOT EDIT.\n\n')
    f.write('package ground\n\n')
    f.write('// imagenetThing maps an ImageNet class (first name) to the thing it shows:\n')
    f.write('// a COCO category ("dog", "car"), or a coarse name ("big cat", "beach").\n')
    f.write('var imagenetThing = map[string]string{\n')
    seen = set()
    for n in names:  # two classes share a name ("crane"): the first one's thing is kept
        if n in kind and n not in seen:
            seen.add(n)
            f.write(f'\t{n!r}: {kind[n]!r},\n'.replace("'", '"') if '"' not in n and "'" not in n else f'\t"{n}": "{kind[n]}",\n')
    f.write('}\n')
